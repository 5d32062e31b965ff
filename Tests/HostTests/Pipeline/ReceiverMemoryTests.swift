import Analytics
import Domain
import Foundation
import HostCore
import Messaging
import Persistence
import ProviderInstances
import ProviderModel
import Synchronization
import TestSupport
import Testing

/// What the receiver keeps stays bounded whatever the requests name: SNS certificate URLs it has never
/// seen (each one a fetch, and before, a cache entry), and case spellings of one config's id (each one a
/// config read and a plugin instance, before). Measured as the receiver process's resident memory.
extension PipelineWebhookTests {
    @Test("The receiver's memory stays under 200 MB after 30,000 SNS requests with distinct certificate URLs and 10,000 case spellings of one config id, and it still answers at once")
    func receiverMemoryBounded() async throws {
        let (harness, pid) = try Self.receiverApart()
        defer { harness.finish() }
        let port = harness.receiverPort

        // The config trusts certificates under a loopback port where nothing listens: each fetch fails at once.
        let nowhere = "http://127.0.0.1:\(try LoopbackPort.free())"
        let ses = try await harness.sendConfig("ses", sandbox: nowhere)
        let start = try #require(Self.residentMegabytes(pid: pid))
        let run = UUID().uuidString.prefix(8).lowercased()
        let certificates = await Self.hammer(port: port, count: 30_000) { index in
            // One in five is short enough to be fetched (and fails): 6,000 failures, past the 4,096 the fetcher remembers; the rest are long, as a probe's 100 KB ones.
            let token = index % 5 == 0 ? "\(run)-\(index)" : "\(run)-\(index)-" + String(repeating: "x", count: 2_400)
            return ("/webhooks/ses/\(ses)", Self.snsBody(timestamp: "2026-11-30T10:00:00.000Z", certificate: "\(nowhere)/sns/\(token).pem",
                                                         messageID: "m-\(index)"))
        }
        let afterCertificates = try #require(Self.residentMegabytes(pid: pid), "the receiver died during the SNS requests")

        // 10,000 spellings of one config id: a config with enough letters in its id for that many.
        var found = ""
        for _ in 0..<40 {
            found = try await harness.sendConfig("resend", sandbox: nowhere)
            if found.filter(\.isLetter).count >= 14 { break }
        }
        let resend = found
        let letters = resend.indices.filter { resend[$0].isLetter }
        let spellings = await Self.hammer(port: port, count: 10_000) { index in
            var spelling = Array(resend)
            for (bit, position) in letters.enumerated() where index >> bit & 1 == 1 {
                let offset = resend.distance(from: resend.startIndex, to: position)
                spelling[offset] = Character(spelling[offset].uppercased())
            }
            return ("/webhooks/resend/\(String(spelling))", Self.resendBody("spelling-\(index)"))
        }
        let afterSpellings = try #require(Self.residentMegabytes(pid: pid), "the receiver died during the spellings")
        print("receiver memory: \(start) MB at start, \(afterCertificates) MB after 30,000 certificate URLs \(certificates), \(afterSpellings) MB after 10,000 spellings \(spellings)")

        for (name, counts) in [("certificate URLs", certificates), ("spellings", spellings)] {
            #expect(counts[0] == nil, "\(name): \(counts[0] ?? 0) requests got no answer")
            #expect(counts.keys.allSatisfy { $0 < 500 || $0 == 503 }, "\(name): a 5xx other than 503: \(counts)")
        }
        #expect(spellings.keys.sorted() == [401], "every spelling finds the config and is refused unsigned: \(spellings)")
        #expect(afterCertificates < 200, "\(afterCertificates) MB after the certificate URLs")
        #expect(afterSpellings < 200, "\(afterSpellings) MB after the spellings")
        // Nothing is left holding the receiver: a request is answered at once.
        let clock = ContinuousClock.now
        #expect(await Self.get(port: port, "/health").status == 200)
        #expect(ContinuousClock.now - clock < .seconds(1))
    }

    @Test("A flood of unknown config ids over 256 connections, while the database is stuck behind a lock, is answered 404 or 503 within 6 s each, memory stays bounded, and a real config's webhook is still stored")
    func unknownConfigFloodBounded() async throws {
        let (harness, pid) = try Self.receiverApart()
        defer { harness.finish() }
        let port = harness.receiverPort
        let real = try await harness.sendConfig("resend", sandbox: "http://127.0.0.1:9")
        func signed(_ id: String) async throws -> Int {
            let body = Self.resendBody(id)
            let headers = try Self.resendHeaders(body, id: id, at: Int64(Date().timeIntervalSince1970))
            return await Self.post("http://127.0.0.1:\(port)/webhooks/resend/\(real)", headers, body).status
        }
        // Ids with no config, asked once: the answer is remembered, so asking again needs no database.
        let missing = (0..<300).map { _ in UUID().uuidString.lowercased() }
        let first = await Self.hammer(port: port, count: missing.count) { ("/webhooks/resend/\(missing[$0])", Self.resendBody("m-\($0)")) }
        #expect(first == [404: missing.count], "unknown ids: \(first)")
        #expect(try await signed("warm") == 200, "the real config's webhook is stored")

        // The send_configs table locked: every read of it waits until the test lets the lock go.
        let locked = DispatchSemaphore(value: 0), unlock = DispatchSemaphore(value: 0)
        defer { unlock.signal() }
        let databaseURL = harness.databaseURL
        let lockFailure = Mutex<String?>(nil)
        Thread.detachNewThread {
            defer { locked.signal() }
            do {
                let holder = try PostgresConnection(url: databaseURL)
                try holder.execute("BEGIN")
                try holder.execute("LOCK TABLE send_configs IN ACCESS EXCLUSIVE MODE")
                locked.signal()
                // Held until the checks below are done (a test that failed before them lets go at its end).
                _ = unlock.wait(timeout: .now() + 300)
                try holder.execute("ROLLBACK")
            } catch {
                lockFailure.withLock { $0 = "\(error)" }
            }
        }
        await onOwnThread { locked.wait() }
        try #require(lockFailure.withLock { $0 } == nil, "the table could not be locked: \(lockFailure.withLock { $0 } ?? "")")
        #expect(try await signed("during-lock") == 200, "a cached config's webhook is stored while the database is stuck")

        // Within the lock, and within the 30 s the receiver remembers a miss (the flood below may outlast them on a
        // busy machine): the ids already known to have no config are answered from memory. A lookup would wait on
        // the lock until its statement timeout and answer 503, so every one answered 404 is one not looked up.
        let again = await Self.hammer(port: port, count: missing.count) { ("/webhooks/resend/\(missing[$0])", Self.resendBody("m-\($0)")) }
        #expect(again == [404: missing.count], "unknown ids asked again, the database stuck: \(again)")
        let flood = await Self.flood(port: port, connections: 256, perConnection: 2, bodyBytes: 16_384)
        let resident = try #require(Self.residentMegabytes(pid: pid), "the receiver died during the flood")
        unlock.signal()
        print("unknown-config flood: \(flood.statuses), slowest \(flood.slowest), \(resident) MB")
        #expect(flood.statuses[0] == nil, "\(flood.statuses[0] ?? 0) requests got no answer")
        #expect(Set(flood.statuses.keys).isSubset(of: [404, 503]), "statuses: \(flood.statuses)")
        #expect(flood.slowest < .seconds(6), "the slowest answer took \(flood.slowest)")
        #expect(resident < 200, "\(resident) MB after the flood")
        #expect(await Self.get(port: port, "/health").status == 200)
    }

    /// A deployment with its API in one host and its receiver alone in another, so that process's memory is the
    /// receiver's; the receiver's pid.
    static func receiverApart() throws -> (PipelineHarness, pid: Int32) {
        let harness = try PipelineHarness().started(roles: "api")
        do {
            try harness.start("receiver", roles: "receiver")
            guard let pid = Self.pid(config: harness.configPath, roles: "receiver") else {
                throw TestSupportError("the receiver's process is not in /proc: did serve --roles receiver exit?")
            }
            return (harness, pid)
        } catch {
            harness.finish()
            throw error
        }
    }

    /// `perConnection` POSTs to random config ids on each of `connections` connections at once, each with a
    /// body of `bodyBytes`: statuses counted (0: no answer) and the slowest answer's time.
    static func flood(port: Int, connections: Int, perConnection: Int, bodyBytes: Int) async -> (statuses: [Int: Int], slowest: Duration) {
        let body = String(repeating: "x", count: bodyBytes)
        return await withTaskGroup(of: ([Int: Int], Duration).self) { group in
            for _ in 0..<connections {
                group.addTask {
                    await onOwnThread {
                        var counts: [Int: Int] = [:]
                        var slowest = Duration.zero
                        var socket: LoopbackSocket?
                        for _ in 0..<perConnection {
                            if socket == nil { socket = LoopbackSocket(port: port, readTimeoutMs: 20_000) }
                            let started = ContinuousClock.now
                            let head = "POST /webhooks/resend/\(UUID().uuidString.lowercased()) HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: \(bodyBytes)\r\n\r\n"
                            guard let connection = socket, connection.send(head + body), let (status, keepAlive) = Self.readResponse(connection) else {
                                counts[0, default: 0] += 1
                                socket = nil
                                continue
                            }
                            slowest = max(slowest, ContinuousClock.now - started)
                            counts[status, default: 0] += 1
                            if !keepAlive { socket = nil }
                        }
                        return (counts, slowest)
                    }
                }
            }
            var total: [Int: Int] = [:]
            var slowest = Duration.zero
            for await (counts, time) in group {
                total.merge(counts, uniquingKeysWith: +)
                slowest = max(slowest, time)
            }
            return (total, slowest)
        }
    }

    @Test("A bounded table keeps at most its capacity whatever is inserted, the newest entries, and a key updated or removed is no ghost")
    func boundedTableEvicts() {
        var table = BoundedTable<String, Int>(capacity: 100)
        for index in 0..<10_000 { table["id-\(index)"] = index }
        #expect(table.count == 100)
        #expect(table["id-9999"] == 9_999 && table["id-9900"] == 9_900 && table["id-9899"] == nil)
        table["id-9950"] = -1
        #expect(table["id-9950"] == -1 && table.count == 100, "an update is no new entry")
        table["id-9960"] = nil
        table["id-9960"] = 7
        for index in 0..<99 { table["more-\(index)"] = index }
        #expect(table["id-9960"] == 7, "a key removed and put back lives in its new slot, not its old one")
        #expect(table.count <= 100)
    }

    @Test("5,000 case spellings of one config id are one cache key; what is not a UUID has none")
    func configIDSpellingsOneKey() {
        let id = "abcdef01-abcd-4bcd-abcd-abcdefabcdef"
        let letters = id.indices.filter { id[$0].isLetter }
        let spellings = (0..<5_000).map { index in
            String(id.indices.map { position -> Character in
                guard let bit = letters.firstIndex(of: position), index >> bit & 1 == 1 else { return id[position] }
                return Character(id[position].uppercased())
            })
        }
        #expect(Set(spellings).count == 5_000)
        #expect(Set(spellings.compactMap(WebhookInstances.canonicalID)) == [id])
        #expect(WebhookInstances.canonicalID("abcdef01-abcd-4bcd-abcd-abcdefabcdeg") == nil)
        #expect(WebhookInstances.canonicalID(id + "0") == nil)
    }

    /// The pid of the `serve` process with this host config and exactly these roles.
    static func pid(config: String, roles: String) -> Int32? {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard arguments.contains(config), let index = arguments.firstIndex(of: "--roles"), index + 1 < arguments.count,
                  arguments[index + 1] == roles else { continue }
            return pid
        }
        return nil
    }

    /// VmRSS of `pid`, in MB; nil when it is gone.
    static func residentMegabytes(pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return nil }
        return kilobytes / 1_024
    }

    /// `count` POSTs over 8 keep-alive connections (each reconnects when the receiver closes it); statuses
    /// counted, 0 for a request that got no answer.
    static func hammer(port: Int, count: Int, request: @escaping @Sendable (Int) -> (path: String, body: [UInt8])) async -> [Int: Int] {
        let connections = 8
        return await withTaskGroup(of: [Int: Int].self) { group in
            for lane in 0..<connections {
                group.addTask {
                    await onOwnThread {
                        var counts: [Int: Int] = [:]
                        var socket: LoopbackSocket?
                        for index in stride(from: lane, to: count, by: connections) {
                            let (path, body) = request(index)
                            if socket == nil { socket = LoopbackSocket(port: port, readTimeoutMs: 30_000) }
                            let head = "POST \(path) HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: text/plain\r\ncontent-length: \(body.count)\r\n\r\n"
                            guard let connection = socket, connection.send(head + String(decoding: body, as: UTF8.self)),
                                  let (status, keepAlive) = Self.readResponse(connection) else {
                                counts[0, default: 0] += 1
                                socket = nil
                                continue
                            }
                            counts[status, default: 0] += 1
                            if !keepAlive { socket = nil }
                        }
                        return counts
                    }
                }
            }
            var total: [Int: Int] = [:]
            for await counts in group { total.merge(counts, uniquingKeysWith: +) }
            return total
        }
    }

    /// One whole response on `socket`: its status and whether the connection stays open; nil when it ended first.
    static func readResponse(_ socket: LoopbackSocket) -> (status: Int, keepAlive: Bool)? {
        var buffer: [UInt8] = []
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        while true {
            if let end = buffer.firstRange(of: separator) {
                let head = String(decoding: buffer[..<end.lowerBound], as: UTF8.self).lowercased()
                let lines = head.split(separator: "\r\n")
                guard let first = lines.first, first.hasPrefix("http/1.1 "), let status = Int(first.dropFirst(9).prefix(3)) else { return nil }
                let length = lines.first { $0.hasPrefix("content-length:") }.flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
                while buffer.count < end.upperBound + length {
                    guard let more = socket.receive(), !more.isEmpty else { return nil }
                    buffer += more
                }
                return (status, !lines.contains("connection: close"))
            }
            guard let more = socket.receive(), !more.isEmpty else { return nil }
            buffer += more
        }
    }
}
