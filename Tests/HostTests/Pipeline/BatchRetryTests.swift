import Foundation
import TestSupport
import Testing

/// Retrying a completed batch's failed recipients, through the sandbox.
/// Part of PipelineWebhookTests (a test at a time, beside the sends).
extension PipelineWebhookTests {
    @Test("retry-failed sends again the recipients that failed for want of attempts (not a refusal, unless all), each once, the batch completing with its counters equal to its rows")
    func retryFailedRecipients() async throws {
        let count = 250
        let (sandbox, harness, config, batch) = try await Self.exhaustedBatch(count: count)
        defer { harness.finish() }
        let reasons = try harness.query("SELECT count(*) FROM recipients WHERE batch_id = $1 AND last_error LIKE 'gave up after 2 attempts%'", [batch])
        #expect(reasons.first?[0] == String(count), "each failed for want of attempts")
        // One refusal among them, as a provider's permanent answer reads.
        _ = try harness.query("UPDATE recipients SET last_error = 'validation_error: invalid to' WHERE batch_id = $1 AND position = 7", [batch])

        let draft = try await harness.batch(config: config, payload: PipelineTests.emailPayload, csv: PipelineTests.csv(count: 1))
        try await harness.call("POST", "/api/batches/\(draft)/retry-failed", expect: 409)
        try await harness.call("POST", "/api/batches/\(UUID().uuidString)/retry-failed", expect: 404)
        try await harness.call("POST", "/api/batches/\(batch)/retry-failed", json: ["all": "yes"], expect: 422)

        try await harness.call("PATCH", "/api/send-configs/\(config)", json: ["credentials": ["base_url": sandbox.url]])
        // The sender's cached instance is made again within its recheck time (5 s, SendConfigInstances.recheckMs).
        try await Task.sleep(for: .seconds(6))
        let retried = try await harness.call("POST", "/api/batches/\(batch)/retry-failed", expect: 200)
        #expect(retried["status"] as? String == "processing", "\(retried)")
        var detail = try await harness.wait(batch, seconds: 60)
        var rows = try harness.rowsByStatus(batch)
        #expect(rows == ["sent": count - 1, "failed": 1], "the refusal stays failed")
        #expect(PipelineHarness.counts(detail)["sent"] == rows["sent"] && PipelineHarness.counts(detail)["failed"] == rows["failed"],
                "counters \(PipelineHarness.counts(detail)) equal the rows \(rows)")
        var stats = PipelineTests.section(try await sandbox.stats(), "resend")
        #expect(stats["messages_accepted"] == count - 1 && stats["duplicate_deliveries"] == 0, "\(stats)")

        // Nothing left that failed for want of attempts: the answer says how to retry the refusal too.
        let nothing = try await harness.call("POST", "/api/batches/\(batch)/retry-failed", expect: 409)
        #expect((nothing["error"] as? [String: Any])?["field"] as? String == "all", "\(nothing)")
        try await harness.call("POST", "/api/batches/\(batch)/retry-failed", json: ["all": true], expect: 200)
        detail = try await harness.wait(batch, seconds: 60)
        rows = try harness.rowsByStatus(batch)
        #expect(rows == ["sent": count] && PipelineHarness.counts(detail)["sent"] == count && PipelineHarness.counts(detail)["failed"] == 0,
                "\(rows) \(PipelineHarness.counts(detail))")
        stats = PipelineTests.section(try await sandbox.stats(), "resend")
        #expect(stats["messages_accepted"] == count && stats["duplicate_deliveries"] == 0, "\(stats)")
        try await harness.call("POST", "/api/batches/\(batch)/retry-failed", json: ["all": true], expect: 409)
    }
}
