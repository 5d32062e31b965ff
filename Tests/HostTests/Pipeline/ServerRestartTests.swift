import EndToEndBench
import Foundation
import HostCore
import Persistence
import TestSupport
import Testing

/// The stack's own servers restarted under a sending batch. They are shared by every test, so
/// this suite runs alone, in a `swift test` of its own that scripts/test starts after the others
/// (BATCHSENDER_SERVER_FAULTS=1).
@Suite("Server restarts under a sending batch", .serialized,
       .enabled(if: ProcessInfo.processInfo.environment["BATCHSENDER_SERVER_FAULTS"] == "1", "run alone by scripts/test"))
struct ServerRestartTests {
    /// `scripts/stack restart SERVER` (after `pauseSeconds` stopped).
    static func restart(_ server: String, pauseSeconds: Int = 0) async throws {
        try await stack(["restart", server, "--pause", String(pauseSeconds)])
    }

    /// `scripts/stack` with `words`, its output in a file.
    static func stack(_ words: [String]) async throws {
        let log = TestPaths.scratch.appendingPathComponent("stack-\(words.joined(separator: "-")).log").path
        try await StackScript(path: TestPaths.packageRoot.appendingPathComponent("scripts/stack").path, logPath: log).run(words)
    }

    /// A round in flight when Redis loses its data may fail to record (Redis is gone), come back, and find its
    /// recipients without outcome or request anywhere: sent again, under new keys. What the one sender lane
    /// holds at once (fetch_batch = 2 chunks of Resend's 100) bounds it.
    static let inFlightBound = 200

    @Test("Redis loses its data a third through a batch under a binding limit (FLUSHALL; kill -9 with the AOF's tail cut): the state is rebuilt from the rows, the batch completes with counters equal to its rows, and no recipient beyond what was in flight is sent twice",
          arguments: ["flushall", "kill-and-cut"])
    func redisDataLoss(fault: String) async throws {
        // Chunks come back part sent while the limit binds: their sent recipients must not be sent again.
        let sandbox = try TestSandbox(config: "[resend]\nrate_limit_per_second = 1000000\n")
        let harness = try PipelineHarness(pipeline: "sender_lanes = 1\nfetch_batch = 2", limits: "").started()
        defer { harness.finish() }
        let count = PipelineTests.lossyCount
        let batch = try await PipelineTests.lossyLimitedBatch(harness, sandbox)
        try await eventually("a third of the batch accepted") { try await sandbox.accepted() >= count / 3 }
        if fault == "flushall" {
            // FLUSHALL frees every key before it answers: on a stack that kept a day's runs, under the valgrind stage's
            // load, that passed the default 2 s (EAGAIN) once.
            _ = try RedisConnection(url: try StackEnvironment.value("REDIS_URL"), timeoutMs: 30_000).command(["FLUSHALL"])
        } else {
            try await Self.stack(["lose", "redis"])
        }
        #expect(try await sandbox.accepted() < count * 2 / 3, "the loss came in the middle of the batch")
        let detail = try await harness.wait(batch, seconds: 240)
        #expect(PipelineHarness.counts(detail)["sent"] == count, "counters rebuilt: \(PipelineHarness.counts(detail))")
        #expect(try harness.rowsByStatus(batch) == ["sent": count])
        let stats = PipelineTests.section(try await sandbox.stats(), "resend")
        #expect(stats["messages_accepted", default: 0] >= count, "nothing lost")
        // FLUSHALL leaves Redis answering: every round records, none comes back unrecorded. A killed Redis fails
        // the rounds in flight, which come back to a state without them.
        let bound = fault == "flushall" ? 0 : Self.inFlightBound
        #expect(stats["duplicate_deliveries", default: 0] <= bound, "no recipient beyond what was in flight reached twice: \(stats)")
        try await PipelineTests.expectScenario(sandbox, stats, faulted: false)
    }

    @Test("NATS, Redis and PostgreSQL each restarted mid-batch: sending pauses, resumes, and ends with 0 lost and 0 duplicates",
          arguments: ["nats", "redis", "postgres"])
    func restartMidBatch(server: String) async throws {
        // Slow answers and small rounds (one lane of 2 chunks) keep the batch sending for ~8 s alone, so the restart
        // (a second or two) lands in the middle and the rest is sent after it.
        let count = 15_000
        let (sandbox, harness, batch) = try await PipelineTests.slowlySending(count: count, slowMs: 100, lanes: 1, accepted: 1_500)
        defer { harness.finish() }
        try await Self.restart(server)
        let acceptedAtRestart = try await sandbox.accepted()
        #expect(acceptedAtRestart < count / 2, "the restart came in the middle of the batch")
        let detail = try await harness.wait(batch, seconds: 240)
        #expect(PipelineHarness.counts(detail)["sent"] == count)
        #expect(try harness.rowsByStatus(batch) == ["sent": count])
        let stats = PipelineTests.section(try await sandbox.stats(), "resend")
        #expect(stats["messages_accepted"] == count, "nothing lost")
        #expect(stats["duplicate_sends"] == 0, "nothing sent twice")
        #expect(stats["duplicate_deliveries"] == 0, "no recipient reached twice, whatever the key")
    }

    @Test("A webhook whose publish JetStream does not acknowledge (NATS stopped) gets 503, never 200; once NATS is back, 200")
    func webhookWithoutNATS() async throws {
        let (harness, _, config) = try await PipelineTests.deployment(roles: "api,receiver", provider: "resend")
        defer { harness.finish() }
        let url = "http://127.0.0.1:\(harness.receiverPort)/webhooks/resend/\(config)"
        let run = UUID().uuidString.prefix(8).lowercased()
        func post(_ name: String) async throws -> (status: Int, body: String) {
            let id = "\(name)_\(run)"
            let body = PipelineWebhookTests.resendBody(id)
            return await PipelineWebhookTests.post(url, try PipelineWebhookTests.resendHeaders(body, id: id, at: Int64(Date().timeIntervalSince1970)), body)
        }
        #expect(try await post("msg_before").status == 200)
        let nats = try #require(URL(string: try StackEnvironment.value("NATS_URL"))?.port, "NATS_URL names no port")
        async let restarted: Void = Self.restart("nats", pauseSeconds: 6)
        // Asked once NATS is down (its port refuses connections), within the restart's 6 s pause.
        try await eventually("NATS stopped", timeout: .seconds(20), interval: .milliseconds(50)) { !LoopbackPort.accepts(nats) }
        let during = try await post("msg_during")
        #expect(during.status == 503, "answered \(during.status) \(during.body) while NATS was stopped")
        try await restarted
        try await eventually { try await post("msg_after").status == 200 }
    }

    @Test("ClickHouse stopped during a 100,000-recipient batch and started again: every event is in ClickHouse once (FINAL), the batch's stats count each once, and the writer's memory stayed under its bound while it spilled to disk")
    func clickhouseRestart() async throws {
        // Small: a chunk's or a round's recipients are one counted row, so the outage holds a few hundred rows at most.
        let memoryRows = 20, flushRows = 5
        let sandbox = try TestSandbox()
        // 2,000 messages/s for the whole deployment: the batch sends for ~50 s, and the outage (ClickHouse stopped, 8 s,
        // started again: up to 30 s on a loaded machine) falls inside it. At 4,000/s one run's batch was done before it.
        let harness = try PipelineHarness(limits: SendRateLimits.unlimitedTOML + "\nsystem = 2000",
                                          analytics: "flush_rows = \(flushRows)\nflush_interval_ms = 500\nmemory_rows = \(memoryRows)")
        defer { harness.finish() }
        try harness.start("host")
        let count = 100_000
        let batch = try await harness.sendResendBatch(sandbox: sandbox, count: count)
        try await eventually { try await sandbox.accepted() >= 10_000 }

        // The writer's gauges, sampled until the batch is done and its events are written.
        let sampling = Task {
            var peak = (buffered: 0.0, spilled: 0.0)
            while !Task.isCancelled {
                peak.buffered = max(peak.buffered, await harness.metric("analytics_buffer_events") ?? 0)
                peak.spilled = max(peak.spilled, await harness.metric("analytics_spilled_events") ?? 0)
                // The sampling period, not a wait: a peak shorter than 100 ms may be missed, which only lowers it.
                try? await Task.sleep(for: .milliseconds(100))
            }
            return peak
        }
        try await Self.restart("clickhouse", pauseSeconds: 8)
        let acceptedAtRestart = try await sandbox.accepted()
        #expect(acceptedAtRestart < count, "the outage came while the batch was sending")
        let detail = try await harness.wait(batch, seconds: 240)
        #expect(PipelineHarness.counts(detail)["sent"] == count)

        func events() async throws -> [String: Int] {
            let rows = try await harness.clickhouse("""
                SELECT event_type, sum(recipients) AS n FROM email_events FINAL WHERE batch_id = '\(batch)' GROUP BY event_type
                """)
            return Dictionary(uniqueKeysWithValues: rows.compactMap { row in
                row["event_type"]?.stringValue.flatMap { type in row["n"]?.stringValue.flatMap(Int.init).map { (type, $0) } }
            })
        }
        let expected = ["queued": count, "sent": count]
        func spilledFiles() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: harness.spillDirectory)) ?? []).filter { $0.hasSuffix(".jsonl") }
        }
        // Until the writer holds nothing: a block an insert cut short left in the table (FINAL counts it) may not have
        // reached the views yet, and it is sent again after a pause. (Without FINAL such a block is there twice until a merge.)
        func counted() async throws -> [String: Int] {
            let stats = try await harness.call("GET", "/api/batches/\(batch)/stats")
            return (stats["counts"] as? [String: Any] ?? [:]).compactMapValues { $0 as? Int }
        }
        // A count above the batch's stays above it: the wait ends at the right counts, or fails with the last ones read.
        try await eventually(timeout: .seconds(90)) {
            let buffered = await harness.metric("analytics_buffer_events") ?? 1
            let stats = try await counted()
            return try await events() == expected && spilledFiles().isEmpty && buffered == 0 && stats["queued"] == count && stats["sent"] == count
        }
        sampling.cancel()
        let peak = await sampling.value
        let stats = try await counted()
        #expect(stats["queued"] == count && stats["sent"] == count, "the batch view counts each block once: \(stats)")
        #expect(peak.spilled > 0, "the outage outlasted the memory bound, so blocks went to disk")
        #expect(peak.buffered <= Double(memoryRows + flushRows), "peak \(peak.buffered) events in memory")
    }
}
