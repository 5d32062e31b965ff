import Analytics
import Domain
import Foundation
import HostCore
import Messaging
import NIOPosix
import Persistence
import ProviderCrypto
import ProviderInstances
import ProviderModel
import TestSupport
import Testing

/// Webhook events PostgreSQL refuses: set aside while the rest of their round commits, tried a bounded
/// number of times, then dead-lettered.
/// Part of PipelineWebhookTests (a test at a time, beside the sends).
extension PipelineWebhookTests {
    @Test("One tenant's 50 signed webhooks that PostgreSQL refuses (an event id too long for its index) hold nobody back: another tenant's ordinary event is applied within 2 s, and the 50 end in batchsender webhooks dead-letters with PostgreSQL's reason")
    func refusedEventsAreDeadLettered() async throws {
        let harness = try PipelineHarness().started(roles: Self.allRoles)
        defer { harness.finish() }
        // The sandbox sends but posts no webhooks of its own: the test posts every webhook.
        let sandbox = try TestSandbox()

        // Tenant A: 50 messages sent. Tenant B (another user): one.
        let configA = try await harness.sendConfig("resend", sandbox: sandbox.url)
        let batchA = try await harness.sentBatch(config: configA, payload: PipelineTests.emailPayload, csv: PipelineTests.csv(count: 50))
        try await harness.wait(batchA)
        harness.key = try harness.makeKey(email: "tenant-b@example.com")
        let configB = try await harness.sendConfig("resend", sandbox: sandbox.url)
        let batchB = try await harness.sentBatch(config: configB, payload: PipelineTests.emailPayload, csv: PipelineTests.csv(count: 1, offset: 500))
        try await harness.wait(batchB)
        let messagesA = try harness.query("SELECT provider_message_id FROM recipients WHERE batch_id = $1 ORDER BY position", [batchA]).compactMap { $0[0] ?? nil }
        let messageB = try harness.query("SELECT provider_message_id FROM recipients WHERE batch_id = $1", [batchB]).first?[0] ?? nil
        #expect(messagesA.count == 50)
        let base = "http://127.0.0.1:\(harness.receiverPort)/webhooks/resend"
        let now = Int64(Date().timeIntervalSince1970)

        // Signed and well formed, but each svix-id is 6,000 random hex digits: PostgreSQL refuses it in
        // recipient_events' primary key (an index row holds at most 2,704 bytes), whatever else the round holds.
        for (index, message) in messagesA.enumerated() {
            let id = "msg_\(index)_" + Encoding.hex((0..<3_000).map { _ in UInt8.random(in: 0...255) })
            let body = Self.resendBody(message)
            let answer = await Self.post("\(base)/\(configA)", try Self.resendHeaders(body, id: id, at: now), body)
            #expect(answer.status == 200, "bad webhook \(index) stored: \(answer.status) \(answer.body)")
        }

        // Tenant B's ordinary event right behind them.
        let bodyB = Self.resendBody(messageB ?? "")
        let answer = await Self.post("\(base)/\(configB)", try Self.resendHeaders(bodyB, id: "msg_b_\(UUID().uuidString)", at: now), bodyB)
        #expect(answer.status == 200, "\(answer.status) \(answer.body)")
        let posted = Date()
        try await eventually(timeout: .seconds(30)) { try harness.rowsByStatus(batchB) == ["delivered": 1] }
        let took = Date().timeIntervalSince(posted)
        #expect(took < 2, "tenant B's event applied \(String(format: "%.2f", took)) s after it was stored")

        // The 50 end in the dead letters (after the attempts and their waits), with PostgreSQL's error, and
        // leave the work stream: nothing of them was applied.
        var letters: [[String: Any]] = []
        try await eventually(timeout: .seconds(60)) {
            let listed = try harness.cli(["webhooks", "dead-letters", "--limit", "1000"])
            letters = listed.output.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }.filter { $0["sendConfigId"] as? String == configA }
            return letters.count >= 50
        }
        #expect(letters.count == 50)
        for letter in letters.prefix(3) {
            let reasons = letter["reasons"] as? [String] ?? []
            #expect(reasons.count == 1 && reasons[0].contains("index row size"), "\(reasons)")
            // Dead at the fifth refusal; a delivery spent waiting (its round's isolation budget spent) counts no refusal.
            #expect((letter["deliveries"] as? Int ?? 0) >= 5, "dead-lettered at the fifth refusal at the earliest: \(letter)")
            #expect(letter["provider"] as? String == "resend")
        }
        #expect(try harness.rowsByStatus(batchA) == ["sent": 50])
        #expect(try harness.query("SELECT count(*) FROM recipient_events WHERE batch_id = $1", [batchA]).first?[0] == "0")
        #expect(try harness.query("SELECT count(*) FROM webhook_dead_letters WHERE send_config_id = $1", [configA]).first?[0] == "50", "one row each")

        // Within one round (one transaction): the refused event is set aside, its own tenant's other event and
        // the other tenant's event commit.
        let threads = NIOThreadPool(numberOfThreads: 1)
        threads.start()
        let url = harness.databaseURL
        let ledger = WebhookLedger(database: ConnectionPool<PostgresConnection>(capacity: 1, threads: threads, isHealthy: { $0.isHealthy }) {
            try PostgresConnection(url: url)
        })
        func event(_ config: String, _ message: String, _ id: String) -> WebhookLedger.Incoming {
            .init(provider: "resend", sendConfigID: config,
                  event: DeliveryEvent(type: .delivered, eventId: id, providerMessageId: message, recipient: "x@example.org"),
                  receivedAtMs: SystemClock.nowMilliseconds)
        }
        let round = [event(configA, messagesA[1], "ok_a_\(UUID().uuidString)"),
                     event(configA, messagesA[0], "bad_" + Encoding.hex((0..<3_000).map { _ in UInt8.random(in: 0...255) })),
                     event(configB, messageB ?? "", "ok_b_\(UUID().uuidString)")]
        let outcome = try await ledger.apply(round)
        #expect(Set(outcome.failed.keys) == [1] && outcome.failed[1]?.contains("index row size") == true, "\(outcome.failed)")
        #expect(outcome.recorded == 2, "both good events kept")
        #expect(try harness.rowsByStatus(batchA) == ["sent": 49, "delivered": 1])

        // `webhooks redrive` hands a dead letter to the processor again: tenant B's bounce, dead-lettered (as if
        // refused before a fix), is applied once re-driven, and its dead letter is gone.
        let bounce = Array(#"{"type":"email.bounced","created_at":"2026-11-30T10:00:01.000Z","data":{"email_id":"\#(messageB ?? "")","to":["b@example.org"],"bounce":{"type":"Permanent","message":"gone"}}}"#.utf8)
        let envelope = WebhookEnvelope(provider: "resend", sendConfigID: configB, receivedAtMs: SystemClock.nowMilliseconds,
                                       request: InboundWebhook(path: "/webhooks/resend/\(configB)", headers: [KeyValue("svix-id", "msg_b_bounce_\(UUID().uuidString)")], body: bounce))
        let database = ConnectionPool<PostgresConnection>(capacity: 1, threads: threads, isHealthy: { $0.isHealthy }) { try PostgresConnection(url: url) }
        try await WebhookDeadLetters(database: database).keep([WebhookDeadLetter(envelope: envelope, bytes: envelope.encoded(), deliveries: 5, reasons: ["refused"])])
        let redrive = try harness.cli(["webhooks", "redrive", "--send-config", configB])
        #expect(redrive.status == 0 && redrive.output.contains("re-drove 1 dead-lettered webhooks"), "\(redrive)")
        try await eventually(timeout: .seconds(30)) { try harness.rowsByStatus(batchB) == ["bounced": 1] }
        #expect(try harness.query("SELECT count(*) FROM webhook_dead_letters WHERE send_config_id = $1", [configB]).first?[0] == "0")
        try await threads.shutdownGracefully()
    }
}
