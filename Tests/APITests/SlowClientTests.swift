import Foundation
import Testing
import TestSupport


/// Clients that send slowly hold nothing that others need: an upload is read into a spool before any
/// database connection is taken, and a body that takes longer than `[api] body_timeout_ms` is cut off.
/// It times answers, so it runs in a `swift test` of its own that scripts/test starts after the others
/// (BATCHSENDER_TIMING=1): beside forty other tests on two cores, a second measures the machine.
@Suite("Slow clients", .enabled(if: ProcessInfo.processInfo.environment["BATCHSENDER_TIMING"] == "1", "run alone by scripts/test"))
struct SlowClientTests {
    /// What a trickling client saw: the status line the server answered with (or nil) and when.
    struct Trickle: Sendable {
        var status: Int?
        var seconds: Double
    }

    /// Connects to `port`, sends the head of a CSV upload promising 10 MB, then one line every 100 ms
    /// until the server answers or closes, or `giveUp` seconds pass. Blocking: run on a thread.
    static func trickle(port: Int, path: String, key: String, giveUp: Double) -> Trickle {
        let start = Date()
        guard let socket = LoopbackSocket(port: port, readTimeoutMs: 100) else { return Trickle(status: nil, seconds: 0) }
        socket.send("POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(key)\r\nContent-Type: text/csv\r\nContent-Length: 10000000\r\n\r\nemail\n")
        var received: [UInt8] = []
        var line = 0
        while Date().timeIntervalSince(start) < giveUp {
            if let bytes = socket.receive() {
                if bytes.isEmpty { return Trickle(status: nil, seconds: Date().timeIntervalSince(start)) }
                received += bytes
                if let text = String(bytes: received, encoding: .utf8), text.hasPrefix("HTTP/1.1 "), text.count >= 12 {
                    return Trickle(status: Int(text.dropFirst(9).prefix(3)), seconds: Date().timeIntervalSince(start))
                }
            }
            line += 1
            socket.send("slow\(line)@example.com\n")
        }
        return Trickle(status: nil, seconds: giveUp)
    }

    @Test("16 trickling uploads hold no connection: another user's requests answer within 1 s, and each slow one is cut off with 408 within 2 s of body_timeout_ms; nothing of theirs is stored")
    func tricklingUploads() async throws {
        let budgetMs = 2_000
        let harness = try APIHarness {
            $0.bodyTimeoutMs = budgetMs
            $0.databaseConnections = 4
            $0.poolWaitMs = 3_000
        }
        let slowKey = try harness.key(for: "slow@example.com"), otherKey = try harness.key(for: "other@example.com")
        try await harness.run { api in
            let port = api.client.port
            let config = try await api.sendConfig(slowKey)
            let batch = try await api.draftBatch(slowKey, config: config)
            let otherConfig = try await api.sendConfig(otherKey)
            let path = "/api/batches/\(batch)/recipients"
            async let slow = withTaskGroup(of: Trickle.self) { group in
                for _ in 0..<16 {
                    group.addTask { await onOwnThread { Self.trickle(port: port, path: path, key: slowKey, giveUp: 15) } }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            // While they trickle, the other user works: every answer within a second.
            try await Task.sleep(for: .milliseconds(300))
            var slowest = 0.0
            let clock = ContinuousClock()
            func timed(_ call: () async throws -> APIClient.Answer) async throws -> APIClient.Answer {
                let started = clock.now
                let answer = try await call()
                let elapsed = clock.now - started
                slowest = max(slowest, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
                return answer
            }
            for round in 0..<5 {
                let list = try await timed { try await api.call(.get, "/api/batches", key: otherKey) }
                let created = try await timed {
                    try await api.call(.post, "/api/batches", key: otherKey,
                                       json: #"{"name":"n\#(round)","sendConfigId":"\#(otherConfig)","payload":{"subject":"s","text":"t"},"recipients":["a\#(round)@example.com"]}"#)
                }
                let other = created["id"]?.stringValue ?? ""
                let upload = try await timed { try await api.call(.post, "/api/batches/\(other)/recipients", key: otherKey, csv: "email\nb@example.com\n") }
                #expect(list.status == 200 && created.status == 201 && upload.status == 200, "\(list.status) \(created.text) \(upload.text)")
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(slowest < 1.0, "another user's slowest request took \(slowest) s")
            let trickles = await slow
            #expect(trickles.count == 16)
            for trickle in trickles {
                #expect(trickle.status == 408, "a trickling upload got \(trickle.status.map(String.init) ?? "no answer")")
                #expect(trickle.seconds < Double(budgetMs) / 1_000 + 2, "cut off after \(trickle.seconds) s")
            }
            #expect(try await api.counts(slowKey, batch: batch)["recipients"]?.int == 0)
        }
    }
}
