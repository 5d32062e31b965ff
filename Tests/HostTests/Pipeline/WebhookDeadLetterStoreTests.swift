import Analytics
import Domain
import Foundation
import HostCore
import Messaging
import NIOPosix
import Persistence
import ProviderInstances
import ProviderModel
import TestSupport
import Testing
@testable import Persistence

/// The webhook dead letters' table and the ledger's savepoints, on a scratch database of their own
/// (no hosts, no stream).
@Suite("Webhook dead-letter store")
struct WebhookDeadLetterStoreTests {
    /// A scratch database and a one-connection pool on it.
    final class Scratch {
        let scratch: ScratchDatabase
        let threads = NIOThreadPool(numberOfThreads: 1)
        let database: ConnectionPool<PostgresConnection>

        init() throws {
            scratch = try ScratchDatabase(purpose: "deadletters")
            threads.start()
            let url = scratch.url
            database = ConnectionPool<PostgresConnection>(capacity: 1, threads: threads, isHealthy: { $0.isHealthy }) { try PostgresConnection(url: url) }
        }

        func query(_ sql: String) throws -> [[String?]] { try scratch.connection().query(sql) }

        func finish() async throws {
            try await threads.shutdownGracefully()
            await scratch.dropOffThread()
        }
    }

    static func letter(_ reasons: [String], body: String = #"{"type":"email.bounced"}"#) -> WebhookDeadLetter {
        let envelope = WebhookEnvelope(provider: "resend", sendConfigID: nil, receivedAtMs: SystemClock.nowMilliseconds,
                                       request: InboundWebhook(path: "/webhooks/resend", headers: [], body: Array(body.utf8)))
        return WebhookDeadLetter(envelope: envelope, bytes: envelope.encoded(), deliveries: 5, reasons: reasons)
    }

    @Test("A letter dead-lettered again on its first redelivery, before the redrive removes it, stays (with its new reasons); one that did not die again is removed")
    func redriveKeepsALetterDeadAgain() async throws {
        let scratch = try Scratch()
        let store = WebhookDeadLetters(database: scratch.database)
        try await store.keep([Self.letter(["refused before the fix"])])
        let count = try await store.redrive(limit: 10) { stored in
            // The processor takes the redriven webhook and refuses it again before the CLI's removal.
            var again = stored.letter
            again.reasons = ["refused again"]
            try await store.keep([again])
        }
        #expect(count == 1)
        #expect(try scratch.query("SELECT reasons FROM webhook_dead_letters").map { $0[0] } == ["{\"refused again\"}"],
                "the webhook's only copy is kept")

        let second = try await store.redrive(limit: 10) { _ in }
        #expect(second == 1)
        #expect(try scratch.query("SELECT count(*) FROM webhook_dead_letters").first?[0] == "0")
        try await scratch.finish()
    }

    @Test("Keeping a letter deletes nothing; the background role's prune drops letters dead for more than 30 days")
    func retentionIsTheBackgroundsJob() async throws {
        let scratch = try Scratch()
        let store = WebhookDeadLetters(database: scratch.database)
        try await store.keep([Self.letter(["old"], body: "old")])
        _ = try scratch.query("UPDATE webhook_dead_letters SET dead_at = now() - interval '31 days'")
        try await store.keep([Self.letter(["new"], body: "new")])
        #expect(try scratch.query("SELECT count(*) FROM webhook_dead_letters").first?[0] == "2", "a processing round deletes nothing")
        #expect(try await store.prune() == 1)
        #expect(try scratch.query("SELECT reasons FROM webhook_dead_letters").map { $0[0] } == ["{new}"])
        try await scratch.finish()
    }

    @Test("A failed try under the ledger's savepoint releases it: no subtransaction is left open for the next try to nest in")
    func savepointReleasedAfterRollback() async throws {
        let scratch = try Scratch()
        let db = try scratch.scratch.connection()
        try db.execute("BEGIN")
        for _ in 0..<3 {
            #expect(throws: PostgresError.self) {
                try WebhookLedger.savepoint(db) { () throws(PostgresError) in try db.execute("SELECT 1 / 0") }
            }
        }
        // Each ROLLBACK TO finds an open savepoint only if a failed try left one behind.
        var open = 0
        while open < 5, (try? db.execute("ROLLBACK TO SAVEPOINT webhook_events; RELEASE SAVEPOINT webhook_events")) != nil { open += 1 }
        #expect(open == 0, "\(open) savepoints left open by failed tries")
        try? db.execute("ROLLBACK")
        try await scratch.finish()
    }
}
