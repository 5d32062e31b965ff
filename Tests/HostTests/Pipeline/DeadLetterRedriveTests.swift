import Domain
import Foundation
import Messaging
import NIOPosix
import ProviderModel
import Persistence
import TestSupport
import Testing

/// A dead letter re-driven after its batch's hot state expired (a day after completion; letters are kept 30).
/// Part of PipelineWebhookTests (a test at a time, beside the sends).
extension PipelineWebhookTests {
    /// A deployment (the caller finishes it) whose Resend batch of `count` completed with every recipient failed
    /// for want of attempts: nothing listens on port 9, where its send-config points, and two attempts are allowed.
    static func exhaustedBatch(count: Int) async throws -> (TestSandbox, PipelineHarness, config: String, batch: String) {
        let sandbox = try TestSandbox()
        let harness = try PipelineHarness(pipeline: "max_attempts = 2").started()
        do {
            let config = try await harness.sendConfig("resend", sandbox: "http://127.0.0.1:9")
            let batch = try await harness.sentBatch(config: config, payload: PipelineTests.emailPayload, csv: PipelineTests.csv(count: count))
            #expect(PipelineHarness.counts(try await harness.wait(batch))["failed"] == count)
            return (sandbox, harness, config, batch)
        } catch {
            harness.finish()
            throw error
        }
    }

    @Test("a dead letter re-driven after the batch's hot state expired: the batch completes again with its counters equal to its rows, each recipient sent once")
    func redriveAfterHotStateExpired() async throws {
        // One dead letter per chunk of Resend's 100, three for 250 recipients.
        let count = 250
        let (sandbox, harness, config, batch) = try await Self.exhaustedBatch(count: count)
        defer { harness.finish() }

        let threads = NIOThreadPool(numberOfThreads: 1)
        threads.start()
        let redisURL = try StackEnvironment.value("REDIS_URL")
        let delivery = DeliveryState(redis: StorePools.redis(url: redisURL, capacity: 1, threads: threads),
                                     prefix: DeliveryState.prefix(for: "test:\(harness.databaseName):"))
        // Retired (no longer synced), then gone as its expiry a day later leaves it.
        try await eventually { !(try await delivery.activeBatches()).contains(batch) }
        _ = try RedisConnection(url: redisURL).command(["DEL"] + delivery.stateKeys(batch))
        #expect(!(try await delivery.isTrusted(batch)))

        try await harness.call("PATCH", "/api/send-configs/\(config)", json: ["credentials": ["base_url": sandbox.url]])
        // The sender's cached instance is made again within its recheck time (5 s, SendConfigInstances.recheckMs);
        // nothing outside the sender shows when it rereads the config (as in `deadLetters`).
        try await Task.sleep(for: .seconds(6))
        // Two of the three letters: the batch then owes sends for some recipients and keeps others failed.
        let redriven = try harness.cli(["dlq", "redrive", "--batch", batch, "--limit", "2"])
        #expect(redriven.status == 0 && redriven.output.contains("re-drove 2 dead letters"), "\(redriven.output)")
        let sent = try #require(redriven.output.split(separator: "(").last.flatMap { Int($0.prefix { $0.isNumber }) })
        #expect(sent > 0 && sent < count)

        let detail = try await harness.wait(batch, seconds: 60)
        let rows = try harness.rowsByStatus(batch)
        #expect(rows == ["sent": sent, "failed": count - sent])
        #expect(PipelineHarness.counts(detail)["sent"] == rows["sent"] && PipelineHarness.counts(detail)["failed"] == rows["failed"],
                "counters \(PipelineHarness.counts(detail)) equal the rows \(rows)")
        let stats = PipelineTests.section(try await sandbox.stats(), "resend")
        #expect(stats["messages_accepted"] == sent && stats["duplicate_sends"] == 0)
        #expect(try harness.cli(["dlq", "list", "--batch", batch]).output.split(separator: "\n").count == 1, "one letter left")
        try await threads.shutdownGracefully()
    }

    @Test("a dead letter of recipients a retry sent after all (a sender stopped between the letter and the outcome), published twice: one letter, and its redrive sends nobody again")
    func redriveSkipsRecipientsSentSince() async throws {
        let sandbox = try TestSandbox()
        let harness = try PipelineHarness().started()
        defer { harness.finish() }
        let config = try await harness.sendConfig("resend", sandbox: sandbox.url)
        let count = 20
        let batch = try await harness.sentBatch(config: config, payload: PipelineTests.emailPayload, csv: PipelineTests.csv(count: count))
        try await PipelineTests.expectSentOnce(harness, sandbox, batch: batch, count: count)

        // The letter the stopped sender stored for three of them before their outcome; the retry then sent them.
        let userID = try #require(try harness.query("SELECT user_id FROM batches WHERE id = $1", [batch]).first?[0] ?? nil)
        let rows = try harness.query("SELECT position, address FROM recipients WHERE batch_id = $1 ORDER BY position LIMIT 3", [batch])
        let recipients = rows.enumerated().map { index, row in
            ChunkJob.Recipient(position: Int(row[0] ?? "") ?? -1, address: row[1] ?? "", subject: "Hello Name \(index)", html: "<p>Hi Name \(index)</p>")
        }
        let job = ChunkJob(batchID: batch, userID: userID, sendConfigID: config,
                           common: OutboundMessage(id: "-", channel: .email, from: "news@example.com"), recipients: recipients)
        let letter = DeadLetter(job: job, exhausted: recipients.map { ($0, "503 five times") })
        let jetStream = try JetStream(url: try StackEnvironment.value("NATS_URL"), namespace: harness.namespace)
        // Stored twice: the round recorded again after the crash, or a publish retried.
        try jetStream.publish([letter.message])
        try jetStream.publish([letter.message])
        #expect(try harness.cli(["dlq", "list", "--batch", batch]).output.split(separator: "\n").count == 1, "one letter")

        let redriven = try harness.cli(["dlq", "redrive", "--batch", batch])
        #expect(redriven.status == 0 && redriven.output.contains("re-drove 1 dead letters (0 recipients)"), "\(redriven.output)")
        #expect(try harness.cli(["dlq", "list", "--batch", batch]).output.split(separator: "\n").isEmpty, "no letter left")
        // Had the redrive sent them, the batch would have gone back to processing and completed again after the sends.
        try await PipelineTests.expectSentOnce(harness, sandbox, batch: batch, count: count)
    }
}
