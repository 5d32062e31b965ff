import Foundation
import TestSupport
import Testing

/// Pause and resume of a batch mid-send, through the sandbox, under a binding send-config limit.
/// Part of PipelineTests (a test at a time, beside the webhook suite).
extension PipelineTests {
    @Test("Paused for 10 s mid-batch: no request reaches the sandbox after the pause answered, the batch is not taken for stuck, and it completes after the resume with each recipient sent once")
    func pauseAndResume() async throws {
        let sandbox = try TestSandbox(config: "[resend]\nrate_limit_per_second = 1000000\n")
        let stuckAfterMs = 2_000
        let harness = try PipelineHarness(pipeline: "stuck_after_ms = \(stuckAfterMs)\nrecovery_interval_ms = 1000").started()
        defer { harness.finish() }
        let config = try await harness.sendConfig("resend", sandbox: sandbox.url)
        // A limit that binds: the batch takes about 10 s to send whole, so the pause falls in its middle.
        try await harness.call("PATCH", "/api/send-configs/\(config)", json: ["rateLimit": 1_000])
        let count = 10_000
        let batch = try await harness.sentBatch(config: config, payload: PipelineTests.emailPayload, csv: PipelineTests.csv(count: count))
        try await eventually("the batch well under way", timeout: .seconds(60)) { try await sandbox.accepted() >= 1_500 }

        let paused = try await harness.call("POST", "/api/batches/\(batch)/pause", expect: 200)
        // Taken for stuck before the pause is the detector's business (2 s without progress; a loaded CI machine's
        // sender once stalled that long before it); during the pause it must not be.
        let recoveriesAtPause = try harness.query("SELECT recoveries FROM batches WHERE id = $1", [batch]).first?[0] ?? nil
        #expect(paused["pausedAt"] is String && paused["status"] as? String == "processing", "\(paused)")
        let atPause = try await sandbox.accepted()
        #expect(atPause < count, "the batch was still sending when paused")
        // Pausing again is the same pause.
        let again = try await harness.call("POST", "/api/batches/\(batch)/pause", expect: 200)
        #expect(again["pausedAt"] as? String == paused["pausedAt"] as? String)
        try await Task.sleep(for: .seconds(10))
        let afterPause = try await sandbox.accepted()
        #expect(afterPause == atPause, "\(afterPause - atPause) requests reached the sandbox during the pause")
        let recoveries = try harness.query("SELECT recoveries FROM batches WHERE id = $1", [batch]).first?[0] ?? nil
        #expect(recoveries == recoveriesAtPause, "a paused batch is quiet on purpose, not stuck: \(recoveriesAtPause ?? "nil") → \(recoveries ?? "nil")")
        #expect((try await harness.detail(batch))["status"] as? String == "processing")

        // The queue as the sender sees it: the paused batch with what it still owes, and their consumer's backlog.
        let queue = try await harness.call("GET", "/api/queue")
        let listed = try #require((queue["batches"] as? [[String: Any]])?.first { $0["id"] as? String == batch }, "\(queue)")
        let pending = listed["pending"] as? Int ?? -1
        #expect(listed["pausedAt"] is String && listed["userId"] == nil && pending > 0 && pending <= count - atPause, "\(listed)")
        #expect(listed["inRetry"] as? Int == 0)
        let consumers = try #require(queue["consumers"] as? [[String: Any]], "\(queue)")
        #expect(consumers.count == 1 && (consumers[0]["backlog"] as? Int ?? 0) + (consumers[0]["inFlight"] as? Int ?? 0) > 0,
                "the batch's chunks wait in its tenant's queue: \(consumers)")
        let operators = try await harness.admin("GET", "/admin/queue")
        #expect((operators["batches"] as? [[String: Any]])?.contains { $0["id"] as? String == batch && $0["userId"] is String } == true)
        let owner = harness.key
        harness.key = try harness.makeKey(email: "someone-else@example.com")
        let others = try await harness.call("GET", "/api/queue")
        #expect((others["batches"] as? [[String: Any]])?.isEmpty == true && (others["consumers"] as? [Any])?.isEmpty == true, "\(others)")
        harness.key = owner

        let resumed = try await harness.call("POST", "/api/batches/\(batch)/resume", expect: 200)
        #expect(resumed["pausedAt"] is NSNull, "\(resumed)")
        _ = try await harness.wait(batch, seconds: 120)
        #expect(try harness.rowsByStatus(batch) == ["sent": count])
        let stats = try #require(try await sandbox.stats()["resend"] as? [String: Any])
        #expect(stats["messages_accepted"] as? Int == count && stats["duplicate_deliveries"] as? Int == 0, "\(stats)")

        // A finished batch cannot be paused; nor can a batch that is not the caller's.
        try await harness.call("POST", "/api/batches/\(batch)/pause", expect: 409)
        try await harness.call("POST", "/api/batches/\(UUID().uuidString)/resume", expect: 404)
    }
}
