import Foundation
import TestSupport
import Testing

/// A provider that answers slowly, past the ack wait and the claim hold: the round in flight keeps its jobs
/// and its claims, so nothing is redelivered and sent beside it. Part of the serialized pipeline suite.
extension PipelineTests {
    @Test("A brownout (every answer 12 s late, past a 5 s ack wait and a 10 s claim hold): the round keeps its jobs and claims, and SES, which takes no idempotency key, gets each message once")
    func brownout() async throws {
        let sandbox = try TestSandbox(config: "[faults.ses]\nslow = 1.0\nslow_ms = 12000\n")
        // The HTTP timeout past the answer's delay: the request is slow, not lost.
        let harness = try PipelineHarness(pipeline: Self.quickRecovery + "\nhttp_timeout_ms = 30000").started()
        defer { harness.finish() }
        let config = try await harness.sendConfig("ses", sandbox: sandbox.url)
        let batch = try await harness.sentBatch(config: config, payload: Self.emailPayload, csv: Self.csv(count: 20))
        let detail = try await harness.wait(batch, seconds: 90)
        #expect(PipelineHarness.counts(detail)["sent"] == 20)
        #expect(try harness.rowsByStatus(batch) == ["sent": 20])
        let stats = Self.section(try await sandbox.stats(), "ses")
        #expect(stats["messages_accepted"] == 20, "each recipient reached SES once: \(stats)")
    }

    @Test("A provider outage of 8 s mid-batch (every send answered 503), under a binding 1,000 messages/s limit: the batch waits it out and completes, each recipient reached once")
    func providerOutage() async throws {
        let sandbox = try TestSandbox()
        // Binding: 6,000 recipients at 1,000 a second take 6 s of tokens, so the outage lands mid-batch.
        let harness = try PipelineHarness(limits: "[limits]\nbyok = { resend = 1000 }\n").started()
        defer { harness.finish() }
        let config = try await harness.sendConfig("resend", sandbox: sandbox.url)
        let count = 6_000
        let batch = try await harness.sentBatch(config: config, payload: Self.emailPayload, csv: Self.csv(count: count))
        try await eventually("the batch under way") { try await sandbox.accepted() > 0 }
        try await sandbox.outage("resend", seconds: 8)
        let before = try await sandbox.accepted()
        #expect(before < count, "the outage began mid-batch: \(before) of \(count) accepted")
        let started = ContinuousClock.now
        let detail = try await harness.wait(batch, seconds: 120)
        #expect(ContinuousClock.now - started > .seconds(8), "the batch outlasted the outage")
        #expect(PipelineHarness.counts(detail)["sent"] == count && PipelineHarness.counts(detail)["failed"] == 0, "\(detail["counts"] ?? "")")
        let stats = Self.section(try await sandbox.stats(), "resend")
        #expect((stats["outage_refused"] ?? 0) > 0, "the outage refused requests: \(stats)")
        #expect(stats["messages_accepted"] == count && stats["duplicate_deliveries"] == 0, "\(stats)")
        // Another provider of the same sandbox was never down.
        #expect(Self.section(try await sandbox.stats(), "ses")["outage_refused"] == 0)
    }
}
