import Foundation
import Messaging
import TestSupport
import Testing

/// Stuck-batch recovery against a batch that only waits.
/// Part of PipelineTests (a test at a time, beside the webhook suite).
extension PipelineTests {
    @Test("a batch throttled with no progress for many times stuck_after_ms is not restarted, and its queue holds no copies of its chunks")
    func throttledBatchIsNotStuck() async throws {
        let sandbox = try TestSandbox(config: """
            [receivers.orders]
            responses = { "200" = 1 }
            [receivers.busy]
            responses = { "429" = 1 }
            """)
        let stuckAfterMs = 2_000
        let harness = try PipelineHarness(pipeline: "stuck_after_ms = \(stuckAfterMs)\nrecovery_interval_ms = 1000\nsingle_send_chunk = 10")
            .started()
        defer { harness.finish() }
        let config = try await harness.sendConfig("custom-webhook", sandbox: sandbox.url)
        // One a second: a few are sent before the endpoint starts throttling, and the chunks' first recipients are
        // decided, so a re-expansion would cut chunks that start elsewhere.
        try await harness.call("PATCH", "/api/send-configs/\(config)", json: ["rateLimit": 1])
        let count = 30
        let batch = try await harness.sentBatch(config: config, payload: ["data": ["greeting": "Hi {{name}}"]],
                                                csv: Self.csv("address,name", count: count) { "endpoint-\($0)" })
        try await eventually { Self.section(try await sandbox.stats(), "receiver")["messages_accepted"] ?? 0 >= 2 }
        // From now on every send is throttled (429, retry-after 1 s): the batch waits and its counters stand still.
        try await harness.call("PATCH", "/api/send-configs/\(config)", json: ["credentials": ["url": sandbox.url + "/receiver/busy"]])
        try await eventually { Self.section(try await sandbox.stats(), "receiver")["rejected"] ?? 0 >= 3 }

        // Quiet for three times stuck_after_ms (a restart would make it look busy again: it moves progressed_at).
        func number(_ sql: String) throws -> Int { (try harness.query(sql, [batch]).first?[0]).flatMap { $0.flatMap { Int($0) } } ?? 0 }
        func recoveries() throws -> Int { try number("SELECT recoveries FROM batches WHERE id = $1") }
        try await eventually("quiet for 3 × stuck_after_ms, or restarted", timeout: .seconds(60)) {
            let quietMs = try number("""
                SELECT (extract(epoch FROM now() - coalesce(progressed_at, updated_at)) * 1000)::bigint FROM batches WHERE id = $1
                """)
            return try recoveries() > 0 || quietMs >= 3 * stuckAfterMs
        }
        #expect(try recoveries() == 0, "a batch waiting on its limits is alive")
        let userID = try #require(try harness.query("SELECT user_id FROM batches WHERE id = $1", [batch]).first?[0] ?? nil)
        let jetStream = try JetStream(url: try StackEnvironment.value("NATS_URL"), namespace: harness.namespace)
        let backlog = try #require(try jetStream.backlog(stream: Streams.system, consumer: "sender-\(userID)"))
        #expect(backlog.pending + UInt64(max(0, backlog.unacked)) <= UInt64(count / 10), "no more jobs than the batch's chunks: \(backlog)")

        // The rest sent at once, not one a second.
        try await harness.call("PATCH", "/api/send-configs/\(config)", json: ["credentials": ["url": sandbox.url + "/receiver/orders"], "rateLimit": 1_000])
        _ = try await harness.wait(batch, seconds: 120)
        #expect(try harness.rowsByStatus(batch) == ["sent": count])
        let stats = Self.section(try await sandbox.stats(), "receiver")
        #expect(stats["messages_accepted"] == count && stats["duplicate_deliveries"] == 0, "\(stats)")
    }
}
