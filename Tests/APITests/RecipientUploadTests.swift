import Analytics
import Dispatch
import Domain
import HostCore
import Messaging
import Persistence
import ProviderModel
import Synchronization
import Testing
import TestSupport

@Suite("Recipient uploads: CSV and JSON, all or nothing")
struct RecipientUploadTests {
    @Test("CSV with quotes, embedded commas and newlines, CRLF and a BOM becomes recipients with variables")
    func csv() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            let config = try await api.sendConfig(key)
            let batch = try await api.draftBatch(key, config: config)
            let csv = "\u{FEFF}Email,name,note\r\nann@example.com,Ann,\"likes \"\"quotes\"\", commas\"\r\n\r\n"
                + "bob@example.com,Bob,\"two\nlines\"\r\nANN@example.com,Dup,x\r\ncid@example.com,Cid,tab\there"
            let answer = try await api.call(.post, "/api/batches/\(batch)/recipients", key: key, csv: csv)
            #expect(answer.status == 200, "\(answer.text)")
            #expect(answer.json == .object(["received": .number(4), "accepted": .number(3), "duplicates": .number(1),
                                            "suppressed": .number(0), "total": .number(3)]))
            let rows = try await api.call(.get, "/api/batches/\(batch)/recipients", key: key)["data"]?.array ?? []
            #expect(rows.map { $0["address"]?.stringValue } == ["ann@example.com", "bob@example.com", "cid@example.com"])
            let positions = rows.compactMap { $0["position"]?.int }
            #expect(positions.count == 3 && positions == positions.sorted() && Set(positions).count == 3, "increasing in upload order: \(positions)")
            #expect(rows[0]["variables"] == .object(["name": .string("Ann"), "note": .string("likes \"quotes\", commas")]))
            #expect(rows[1]["variables"]?["note"] == .string("two\nlines"))
            #expect(rows[2]["variables"]?["note"] == .string("tab\there"))

            // A second chunk comes after the first and de-duplicates against it.
            let more = try await api.call(.post, "/api/batches/\(batch)/recipients", key: key, json: #"["dee@example.com","bob@example.com"]"#)
            #expect(more["accepted"]?.int == 1)
            #expect(more["duplicates"]?.int == 1)
            #expect(more["total"]?.int == 4)
            let counts = try await api.counts(key, batch: batch)
            #expect(counts["recipients"]?.int == 4)
            #expect(counts["duplicates"]?.int == 2)
        }
    }

    @Test("a malformed row rejects its whole chunk with its line number, and the batch is unchanged", arguments: [
        ("email,name\nok@example.com,A\nbad-address,B\n", "line 3"),
        ("email,name\nok@example.com,A\nmore@example.com,B,extra\n", "line 3"),
        ("email,name\nok@example.com,\"never closed\n", "line 2"),
        ("email,name\nok@example.com,A\"quote\n", "line 2"),
        ("name,city\nAnn,Paris\n", "line 1"),
        ("email,email\na@x.com,b@x.com\n", "line 1"),
        ("", "body"),
        ("email,name\nok@example.com,\"a\"b\n", "line 2"),
    ])
    func malformed(csv: String, field: String) async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            let config = try await api.sendConfig(key)
            let batch = try await api.draftBatch(key, config: config, recipients: #"["first@example.com"]"#)
            let before = try await api.call(.get, "/api/batches/\(batch)", key: key).json
            let answer = try await api.call(.post, "/api/batches/\(batch)/recipients", key: key, csv: csv)
            #expect(answer.status == 422, "\(answer.text)")
            #expect(answer.errorField == field, "\(answer.text)")
            let after = try await api.call(.get, "/api/batches/\(batch)", key: key).json
            #expect(after["counts"] == before["counts"])
            #expect(try await api.addresses(key, batch: batch) == ["first@example.com"])
        }
    }

    @Test("the content type must be JSON or CSV; a JSON upload must be an array")
    func mediaTypes() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            let config = try await api.sendConfig(key)
            let batch = try await api.draftBatch(key, config: config)
            let plain = try await api.call(.post, "/api/batches/\(batch)/recipients", key: key, contentType: "text/plain", body: "a@x.com")
            #expect(plain.status == 415)
            let object = try await api.call(.post, "/api/batches/\(batch)/recipients", key: key, json: #"{"address":"a@x.com"}"#)
            #expect(object.status == 422)
            #expect(object.errorField == "body")
            let unknown = try await api.call(.post, "/api/batches/\(batch)/recipients", key: key, json: #"[{"address":"a@x.com","age":3}]"#)
            #expect(unknown.errorField == "recipients[0].age")
            let missing = try await api.call(.post, "/api/batches/00000000-0000-0000-0000-000000000001/recipients", key: key, json: "[]")
            #expect(missing.status == 404)
        }
    }

    @Test("suppressed addresses are stored as suppressed and counted")
    func suppressedOnUpload() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            #expect(try await api.call(.post, "/api/suppressions", key: key, json: #"{"address":"Gone@Example.com","reason":"bounce"}"#).status == 201)
            let config = try await api.sendConfig(key)
            let batch = try await api.draftBatch(key, config: config)
            let answer = try await api.call(.post, "/api/batches/\(batch)/recipients", key: key, csv: "email\nok@example.com\ngone@example.com\n")
            #expect(answer["suppressed"]?.int == 1)
            let suppressed = try await api.call(.get, "/api/batches/\(batch)/recipients?status=suppressed", key: key)
            #expect(suppressed["data"]?.array.compactMap { $0["address"]?.stringValue } == ["gone@example.com"])
            #expect(try await api.call(.get, "/api/batches/\(batch)/recipients?status=lost", key: key).errorField == "query.status")
        }
    }

    @Test("a batch never exceeds its recipient limit: the chunk that would is refused whole (413)")
    func limit() async throws {
        let harness = try APIHarness { $0.maxRecipientsPerBatch = 5 }
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            let config = try await api.sendConfig(key)
            let batch = try await api.draftBatch(key, config: config, recipients: #"["a@x.com","b@x.com","c@x.com","d@x.com"]"#)
            let over = try await api.call(.post, "/api/batches/\(batch)/recipients", key: key, csv: "email\ne@x.com\nf@x.com\n")
            #expect(over.status == 413, "\(over.text)")
            #expect(try await api.counts(key, batch: batch)["recipients"]?.int == 4)
            let duplicatesOnly = try await api.call(.post, "/api/batches/\(batch)/recipients", key: key, csv: "email\na@x.com\ne@x.com\n")
            #expect(duplicatesOnly.status == 200, "duplicates do not count against the limit")
            #expect(duplicatesOnly["total"]?.int == 5)
        }
    }

    @Test("a large CSV streams over a real socket in many pieces and arrives whole")
    func streamedOverSocket() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            let config = try await api.sendConfig(key)
            let batch = try await api.draftBatch(key, config: config)
            var csv = "email,first_name,city\n"
            for index in 0..<30_000 { csv += "user\(index)@example.com,Name\(index),City \(index % 50)\n" }
            let answer = try await api.call(.post, "/api/batches/\(batch)/recipients", key: key, csv: csv)
            #expect(answer.status == 200, "\(answer.text.prefix(300))")
            #expect(answer["accepted"]?.int == 30_000)
            var rows: [JSONValue] = [], cursor: String? = nil
            repeat {
                let page = try await api.call(.get, "/api/batches/\(batch)/recipients?limit=1000" + (cursor.map { "&cursor=\($0)" } ?? ""), key: key)
                rows += page["data"]?.array ?? []
                cursor = page["nextCursor"]?.stringValue
            } while cursor != nil
            #expect(rows.count == 30_000)
            #expect(rows.map { $0["address"]?.stringValue ?? "" } == (0..<30_000).map { "user\($0)@example.com" }, "positions keep the upload's order")
            #expect(rows.last?["variables"] == .object(["first_name": .string("Name29999"), "city": .string("City 49")]))
        }
    }

    @Test("chunks for one batch upload and merge at once: every address once, counters exact, positions distinct")
    func concurrentChunks() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            let config = try await api.sendConfig(key)
            let batch = try await api.draftBatch(key, config: config)
            // Four chunks of 2,000; each overlaps the next by 500 addresses: 6,500 distinct in all.
            let answers = try await withThrowingTaskGroup(of: JSONValue.self) { group in
                for chunk in 0..<4 {
                    group.addTask {
                        var csv = "email\n"
                        for index in (chunk * 1_500)..<(chunk * 1_500 + 2_000) { csv += "user\(index)@example.com\n" }
                        let answer = try await api.call(.post, "/api/batches/\(batch)/recipients", key: key, csv: csv)
                        #expect(answer.status == 200, "\(answer.text.prefix(300))")
                        return answer.json
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.compactMap { $0["accepted"]?.int }.reduce(0, +) == 6_500)
            #expect(answers.compactMap { $0["duplicates"]?.int }.reduce(0, +) == 1_500)
            #expect(answers.compactMap { $0["total"]?.int }.max() == 6_500)
            let counts = try await api.counts(key, batch: batch)
            #expect(counts["recipients"]?.int == 6_500 && counts["duplicates"]?.int == 1_500, "\(counts)")
            var positions = Set<Int>(), addresses = Set<String>(), cursor: Int? = nil
            repeat {
                let page = try await api.call(.get, "/api/batches/\(batch)/recipients?limit=1000" + (cursor.map { "&cursor=\($0)" } ?? ""), key: key)
                for row in page["data"]?.array ?? [] {
                    if let position = row["position"]?.int { positions.insert(position) }
                    if let address = row["address"]?.stringValue { addresses.insert(address) }
                }
                cursor = page["nextCursor"]?.stringValue.flatMap(Int.init)
            } while cursor != nil
            #expect(positions.count == 6_500 && addresses.count == 6_500)
        }
    }

    @Test("a merge PostgreSQL aborts to break a deadlock is retried: the upload still answers 200, each address once")
    func deadlockRetried() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            let config = try await api.sendConfig(key)
            let batch = try await api.draftBatch(key, config: config)
            // Another writer holds x and will want y; the upload takes y, then waits for x: a cycle.
            // PostgreSQL counts the deadlocks it breaks: the test holds only if one really happened.
            func deadlocks() throws -> Int {
                Int(try harness.connection().query("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")[0][0] ?? "") ?? -1
            }
            let before = try deadlocks()
            let insert = "INSERT INTO recipients (batch_id, position, address) VALUES ($1, nextval('recipient_positions'), $2)"
            let url = harness.databaseURL, holding = DispatchSemaphore(value: 0), proceed = DispatchSemaphore(value: 0)
            let otherTransaction = Handoff()
            async let other: Void = onOwnThread {
                // Also when it fails first: the test then fails instead of waiting forever.
                defer { holding.signal() }
                let connection = try PostgresConnection(url: url)
                // Each waiter runs its own deadlock check once it has waited deadlock_timeout (1 s); this writer's
                // runs only after a minute, so the upload's check always comes first and the upload is the one
                // aborted, however the machine schedules the two waits (the stack's role is a superuser).
                try connection.execute("SET deadlock_timeout = '60s'")
                try connection.execute("BEGIN")
                _ = try connection.query(insert, [batch, "x@example.com"])
                let xid = try connection.query("SELECT pg_current_xact_id()::xid::text")[0][0]
                otherTransaction.set(xid)
                holding.signal()
                proceed.wait()
                _ = try connection.query(insert, [batch, "y@example.com"])
                try connection.execute("COMMIT")
            }
            await onOwnThread { holding.wait() }
            async let upload = api.call(.post, "/api/batches/\(batch)/recipients", key: key, csv: "email\ny@example.com\nx@example.com\n")
            // Once the upload is blocked on x (a sleep is not enough on a loaded machine: the upload may not have
            // reached its insert yet, and then there is no cycle), the other writer takes y. The upload has waited
            // longest, so its deadlock check runs first and aborts its insert, not the other's. Only a wait on the
            // other writer's own transaction counts: concurrent tests' lock waits on this database once let the
            // other writer go early, close the cycle first, and be the one aborted.
            let xid = otherTransaction.value ?? ""
            let deadline = ContinuousClock.now + .seconds(20)
            do {
                while try harness.connection().query("""
                    SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND transactionid = $1::xid AND NOT granted
                    """, [xid])[0][0] == "0", ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
            } catch {
                // Released all the same, so that a failed wait fails the test rather than hanging it.
                proceed.signal()
                throw error
            }
            proceed.signal()
            try await other
            let answer = try await upload
            #expect(answer.status == 200, "\(answer.text)")
            #expect(answer["accepted"]?.int == 0 && answer["duplicates"]?.int == 2, "both addresses were the other writer's: \(answer.text)")
            let stored = try harness.connection().query("SELECT count(*) FROM recipients WHERE batch_id = $1", [batch])
            #expect(stored.first?[0] == "2")
            // The statistics reach the view within a second or so of the backend's next report.
            var after = try deadlocks()
            for _ in 0..<50 where after <= before {
                try await Task.sleep(for: .milliseconds(200))
                after = try deadlocks()
            }
            // At least one: other tests on this database (opposite-order chunks) may break deadlocks of their own meanwhile.
            #expect(after > before, "PostgreSQL broke no deadlock; the merge's retry was not exercised")
        }
    }

    @Test("two chunks with the same addresses in opposite orders, at once: each address stored once, both answered 200")
    func oppositeOrders() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            let config = try await api.sendConfig(key)
            let batch = try await api.draftBatch(key, config: config)
            let addresses = (0..<20_000).map { "user\($0)@example.com" }
            let answers = try await withThrowingTaskGroup(of: JSONValue.self) { group in
                for order in [addresses, addresses.reversed()] {
                    group.addTask {
                        let answer = try await api.call(.post, "/api/batches/\(batch)/recipients", key: key,
                                                        csv: "email\n" + order.joined(separator: "\n"))
                        #expect(answer.status == 200, "\(answer.text.prefix(300))")
                        return answer.json
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.compactMap { $0["accepted"]?.int }.reduce(0, +) == 20_000)
            #expect(answers.compactMap { $0["duplicates"]?.int }.reduce(0, +) == 20_000)
            let counts = try await api.counts(key, batch: batch)
            #expect(counts["recipients"]?.int == 20_000 && counts["duplicates"]?.int == 20_000, "\(counts)")
            #expect(try await api.call(.get, "/api/batches/\(batch)/recipients?cursor=x", key: key).errorField == "query.cursor")
        }
    }
}

/// Written by a writer thread before it signals, read by the test after the signal.
private final class Handoff: Sendable {
    private let stored = Mutex<String?>(nil)
    var value: String? { stored.withLock { $0 } }
    func set(_ value: String?) { stored.withLock { $0 = value } }
}
