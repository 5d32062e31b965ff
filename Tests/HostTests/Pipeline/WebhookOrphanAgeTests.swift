import Domain
import Foundation
import HostCore
import Messaging
import NIOPosix
import Persistence
import ProviderModel
import TestSupport
import Testing

/// How long a webhook waits for its message: `orphan_after_ms` from the first round that looked for it, not from
/// its arrival at the receiver.
/// Part of PipelineWebhookTests (a test at a time, beside the sends).
extension PipelineWebhookTests {
    @Test("webhooks that arrived longer than orphan_after_ms ago (a backlog, a PostgreSQL outage): one whose message appears after the first look is applied, one whose message never does is orphaned orphan_after_ms after the first look")
    func orphanAgedFromFirstLook() async throws {
        let orphanAfterMs: Int64 = 3_000
        let sandbox = try TestSandbox()
        let harness = try PipelineHarness(webhooks: "orphan_after_ms = \(orphanAfterMs)")
            .started(roles: "api,discoverer,processor,sender,background,webhook-processor")
        defer { harness.finish() }
        let config = try await harness.sendConfig("resend", sandbox: sandbox.url)
        let batch = try await harness.sentBatch(config: config, payload: PipelineTests.emailPayload, csv: PipelineTests.csv(count: 1))
        try await harness.wait(batch)

        // Two delivery events the receiver took ten windows ago, stored as it stores them; no message has their ids yet.
        let run = UUID().uuidString.prefix(8).lowercased()
        let late = "late-\(run)", never = "never-\(run)"
        let arrivedMs = SystemClock.nowMilliseconds - 10 * orphanAfterMs
        let jetStream = try JetStream(url: try StackEnvironment.value("NATS_URL"), namespace: harness.namespace)
        func store(_ messageID: String) throws -> UInt64 {
            let request = InboundWebhook(path: "/webhooks/resend/\(config)", headers: [KeyValue("svix-id", "msg_\(messageID)")],
                                         body: Self.resendBody(messageID))
            let envelope = WebhookEnvelope(provider: "resend", sendConfigID: config, receivedAtMs: arrivedMs, request: request)
            try jetStream.publish([OutgoingMessage(subject: Streams.webhookSubject(provider: "resend", event: "delivered"),
                                                   id: "msg_\(messageID)", data: envelope.encoded())])
            return try jetStream.lastSequence(stream: Streams.webhooks)
        }
        let storedMs = SystemClock.nowMilliseconds
        let lateSequence = try store(late)
        _ = try store(never)

        let threads = NIOThreadPool(numberOfThreads: 1)
        threads.start()
        let redisURL = try StackEnvironment.value("REDIS_URL")
        let memory = WebhookMemory(redis: StorePools.redis(url: redisURL, capacity: 1, threads: threads),
                                   prefix: DeliveryState.prefix(for: "test:\(harness.databaseName):"))
        let redis = try RedisConnection(url: redisURL)
        func orphaned(_ messageID: String) throws -> Int64? {
            let rows = try harness.query("SELECT (extract(epoch FROM kept_at) * 1000)::bigint FROM webhook_orphans WHERE provider_message_id = $1",
                                         [messageID])
            return rows.first?[0].flatMap { Int64($0) }
        }
        // The processor looked for the late event's message and did not find it (or, looking by its arrival, orphaned it).
        try await eventually { try redis.command(["GET", memory.missKey(lateSequence)]).string != nil || orphaned(late) != nil }

        // Its message is written now (the sender's write, late): the next look applies the event.
        _ = try harness.query("""
            WITH named AS (UPDATE recipients SET provider_message_id = $2 WHERE batch_id = $1 RETURNING position)
            INSERT INTO provider_messages (provider_message_id, batch_id, position) SELECT $2, $1, position FROM named
            """, [batch, late])
        try await eventually(timeout: .seconds(20)) { try harness.rowsByStatus(batch) == ["delivered": 1] }
        #expect(try orphaned(late) == nil, "applied, not orphaned")

        // The other one's message never comes: orphaned, no sooner than orphan_after_ms after the first look.
        let keptMs = try await eventuallyValue(timeout: .seconds(30)) { try orphaned(never) }
        #expect(keptMs - storedMs >= orphanAfterMs, "orphaned \(keptMs - storedMs) ms after it was stored")
        try await threads.shutdownGracefully()
    }
}
