import Analytics
import Dispatch
import Domain
import HTTPTypes
import HostCore
import Messaging
import Persistence
import ProviderInstances
import ProviderModel
import Services
import TestSupport
import Testing
@testable import SenderAPI

/// `Idempotency-Key` on creating and sending batches, and the races between a batch's queueing and its
/// send-config's deletion.
@Suite("Idempotency keys and races")
struct IdempotencyTests {
    static func keyed(_ value: String) -> HTTPFields { [HTTPField.Name("Idempotency-Key")!: value] }

    static func body(_ config: String, name: String = "launch") -> String {
        #"{"name":"\#(name)","sendConfigId":"\#(config)","payload":{"subject":"Hi","text":"Hello"},"recipients":["a@x.com","b@x.com"]}"#
    }

    @Test("a batch created twice with one key (a lost answer retried, or both at once) is one batch; the same key on another body is a 409")
    func createOnce() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            let config = try await api.sendConfig(key)
            let first = try await api.call(.post, "/api/batches", key: key, json: Self.body(config), headers: Self.keyed("create-1"))
            #expect(first.status == 201 && first.headers[HTTPField.Name("Idempotent-Replayed")!] == nil, "\(first.text)")
            let again = try await api.call(.post, "/api/batches", key: key, json: Self.body(config), headers: Self.keyed("create-1"))
            #expect(again.status == 201 && again["id"] == first["id"], "\(again.text)")
            #expect(again.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(again["counts"]?["recipients"]?.int == 2, "the first request's recipients, not added twice")
            let other = try await api.call(.post, "/api/batches", key: key, json: Self.body(config, name: "other"), headers: Self.keyed("create-1"))
            #expect(other.status == 409 && other.errorField == "header.Idempotency-Key", "\(other.text)")

            // Eight at once with one key: one batch, every answer naming it.
            let ids = try await withThrowingTaskGroup(of: String?.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        let answer = try await api.call(.post, "/api/batches", key: key, json: Self.body(config, name: "race"), headers: Self.keyed("create-2"))
                        #expect(answer.status == 201, "\(answer.text)")
                        return answer["id"]?.stringValue
                    }
                }
                return try await group.reduce(into: Set<String?>()) { $0.insert($1) }
            }
            #expect(ids.count == 1 && ids.first! != nil, "\(ids)")
            let listed = try await api.call(.get, "/api/batches?limit=100", key: key)["data"]?.array ?? []
            #expect(listed.count == 2, "one batch per key: \(listed.count)")
            let blank = try await api.call(.post, "/api/batches", key: key, json: Self.body(config), headers: Self.keyed("has space"))
            #expect(blank.status == 422 && blank.errorField == "header.Idempotency-Key")
            // Another user's key of the same value is another key.
            let otherUser = try harness.key(for: "bob@example.com")
            let otherConfig = try await api.sendConfig(otherUser)
            let theirs = try await api.call(.post, "/api/batches", key: otherUser, json: Self.body(otherConfig), headers: Self.keyed("create-1"))
            #expect(theirs.status == 201 && theirs["id"] != first["id"])
        }
    }

    @Test("a send retried with its key answers the first send's result instead of 409; without a key the retry is a 409")
    func sendOnce() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            let config = try await api.sendConfig(key)
            let batch = try await api.draftBatch(key, config: config, recipients: #"["a@x.com"]"#)
            let sent = try await api.call(.post, "/api/batches/\(batch)/send", key: key, headers: Self.keyed("send-1"))
            #expect(sent.status == 200 && sent["status"] == .string("queued"), "\(sent.text)")
            let retried = try await api.call(.post, "/api/batches/\(batch)/send", key: key, headers: Self.keyed("send-1"))
            #expect(retried.status == 200 && retried["id"] == sent["id"] && retried.headers[HTTPField.Name("Idempotent-Replayed")!] == "true",
                    "\(retried.text)")
            #expect(try await api.call(.post, "/api/batches/\(batch)/send", key: key).status == 409)
            let scheduled = try await api.call(.post, "/api/batches/\(batch)/send", key: key, json: #"{"scheduledAt":"2030-01-01T00:00:00Z"}"#,
                                               headers: Self.keyed("send-1"))
            #expect(scheduled.status == 409 && scheduled.errorField == "header.Idempotency-Key", "another body under the same key: \(scheduled.text)")
        }
    }

    @Test("a send-config deleted while a batch on it is being queued: one of the two wins, never both")
    func queueAgainstDelete() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            let config = try await api.sendConfig(key)
            let batch = try await api.draftBatch(key, config: config, recipients: #"["a@x.com"]"#)
            // Another session deletes the config as the API does and holds its transaction open.
            let url = harness.databaseURL, holding = DispatchSemaphore(value: 0), proceed = DispatchSemaphore(value: 0)
            let user = try harness.connection().query("SELECT user_id FROM batches WHERE id = $1", [batch])[0][0]!
            async let deleter: Bool = onOwnThread {
                // Also when it fails first: the test then fails instead of waiting forever.
                defer { holding.signal() }
                let connection = try PostgresConnection(url: url)
                try connection.execute("BEGIN")
                let deleted = try SendConfigService.delete(connection, userID: user, id: config)
                holding.signal()
                proceed.wait()
                try connection.execute("COMMIT")
                return deleted
            }
            await onOwnThread { holding.wait() }
            async let send = api.call(.post, "/api/batches/\(batch)/send", key: key)
            // The send must wait for the deletion to commit, then see it: released once it waits on a lock.
            do {
                try await eventually("the send waits on the deletion's lock", timeout: .seconds(20), interval: .milliseconds(20)) {
                    // A row lock waits on the holder's transaction id, which names no database: the waiter's session does.
                    try harness.connection().query("""
                        SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                        WHERE NOT l.granted AND a.datname = current_database()
                        """)[0][0] != "0"
                }
            } catch {
                // Released all the same, so that a failed wait fails the test rather than hanging it.
                proceed.signal()
                throw error
            }
            proceed.signal()
            #expect(try await deleter)
            let answer = try await send
            #expect(answer.status == 409 && answer.errorField == "sendConfigId", "\(answer.status) \(answer.text)")
            let status = try harness.connection().query("SELECT status FROM batches WHERE id = $1", [batch])[0][0]
            #expect(status == "draft", "no batch queued on a deleted send-config")
        }
    }

    @Test("a message's key is claimed like a batch's: the same request (members in any order) replays its first answer; another body, or a batch, under the key is a 409")
    func messageOnce() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "cat@example.com")
        try await harness.run { api in
            let config = try await api.sendConfig(key)
            let replayed = HTTPField.Name("Idempotent-Replayed")!
            let body = #"{"sendConfigId":"\#(config)","to":"a@x.com","payload":{"subject":"Hi","text":"Hello"}}"#
            let first = try await api.call(.post, "/api/messages", key: key, json: body, headers: Self.keyed("msg-1"))
            #expect(first.status == 202 && first.headers[replayed] == nil, "\(first.text)")
            let reordered = #"{"payload":{"text":"Hello","subject":"Hi"},"to":"a@x.com","sendConfigId":"\#(config)"}"#
            let again = try await api.call(.post, "/api/messages", key: key, json: reordered, headers: Self.keyed("msg-1"))
            #expect(again.status == 202 && again.headers[replayed] == "true" && again.text == first.text, "\(again.text)")
            let other = #"{"sendConfigId":"\#(config)","to":"b@x.com","payload":{"subject":"Hi","text":"Hello"}}"#
            let refused = try await api.call(.post, "/api/messages", key: key, json: other, headers: Self.keyed("msg-1"))
            #expect(refused.status == 409 && refused.errorField == "header.Idempotency-Key", "\(refused.text)")
            let batch = try await api.call(.post, "/api/batches", key: key, json: Self.body(config), headers: Self.keyed("msg-1"))
            #expect(batch.status == 409 && batch.errorField == "header.Idempotency-Key", "one key names one request, whatever the route: \(batch.text)")
            let claims = try harness.connection().query("SELECT route, resource_id FROM idempotency_keys WHERE key = 'msg-1'")
            #expect(claims.count == 1 && claims.first?[0] == "POST /api/messages" && claims.first?[1] == first["id"]?.stringValue, "\(claims)")
        }
    }
}
