import Domain
import Foundation
import HostCore
import Messaging
import Persistence
import ProviderInstances
import TestSupport
import Testing

/// Sending limits on the real stack, measured where they matter: at the receiving end, from the
/// sandbox's arrival times. The rates are held to 5 % over seconds, so these run alone by scripts/test
/// (BATCHSENDER_TIMING=1): beside the other pipeline suite on two busy cores, a sender's rounds waited their
/// turn and a config limited to 50/s measured 828 in 20 s. The limits' other tests, which bound only from
/// above, are PipelineTests'.
@Suite("Sending limits measured at the sandbox", .serialized,
       .enabled(if: ProcessInfo.processInfo.environment["BATCHSENDER_TIMING"] == "1", "run alone by scripts/test"))
struct RateLimitTests {
    /// Arrival times (Unix ms) of a provider's accepted messages at the sandbox, sorted.
    static func arrivals(_ sandbox: TestSandbox, _ provider: String) async throws -> [Int64] {
        let body = try await sandbox.get("/sandbox/arrivals?provider=\(provider)")
        return (body["arrivals"] as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.int64Value }.sorted()
    }

    /// The most arrivals in any one-second window starting at an arrival at or after `from`.
    static func busiestSecond(_ times: [Int64], from: Int64 = 0) -> Int {
        var most = 0, end = 0
        for start in times.indices where times[start] >= from {
            while end < times.count, times[end] < times[start] + 1_000 { end += 1 }
            most = max(most, end - start)
        }
        return most
    }

    static func arrivalCount(_ times: [Int64], from: Int64, to: Int64) -> Int { times.filter { $0 >= from && $0 < to }.count }

    static let rateSandboxConfig = "[resend]\nrate_limit_per_second = 1000000\n[telnyx]\nrate_limit_per_second = 1000000\n"

    @Test("A send-config limited to R sends within 5% of R over 20 s and never above 1.1 R in a second; an admin change to R/2 acts within a second; waiting is no attempt")
    func perConfigLimitAndLiveChange() async throws {
        let rate = 50
        let sandbox = try TestSandbox(config: RateLimitTests.rateSandboxConfig)
        let harness = try PipelineHarness(limits: "").started()
        defer { harness.finish() }
        let config = try await harness.sendConfig("resend", sandbox: sandbox.url)
        try await harness.call("PATCH", "/api/send-configs/\(config)", json: ["rateLimit": rate])
        let batch = try await harness.sentBatch(config: config, payload: PipelineTests.emailPayload, csv: PipelineTests.csv(count: 1_250))

        // 21 s at R, then halved while the batch still sends.
        try await eventually { try await !RateLimitTests.arrivals(sandbox, "resend").isEmpty }
        let first = try await RateLimitTests.arrivals(sandbox, "resend")[0]
        let changeAt = first + 21_000
        // The test measures 20 s at R from the first arrival: that time passing is the point, on the clock the
        // sandbox stamps arrivals with.
        try await Task.sleep(for: .milliseconds(max(0, changeAt - SystemClock.nowMilliseconds)))
        try await harness.admin("PUT", "/admin/limits/send-configs/\(config)", json: ["perSecond": rate / 2])
        let changedAt = SystemClock.nowMilliseconds
        let detail = try await harness.wait(batch, seconds: 90)
        let times = try await RateLimitTests.arrivals(sandbox, "resend")

        #expect(times.count == 1_250, "every recipient arrived once")
        let window = Self.arrivalCount(times, from: first + 1_000, to: first + 21_000)
        #expect(abs(window - 20 * rate) <= 20 * rate / 20, "\(window) messages in the 20 s window at \(rate)/s: within 5% of \(20 * rate)")
        let before = RateLimitTests.busiestSecond(times.filter { $0 < changedAt })
        #expect(before <= rate * 11 / 10, "busiest second before the change: \(before) > 1.1 × \(rate)")
        let after = RateLimitTests.busiestSecond(times, from: changedAt + 1_000)
        #expect(after <= (rate / 2) * 11 / 10, "busiest second from 1 s after the change: \(after) > 1.1 × \(rate / 2)")
        let counts = PipelineHarness.counts(detail)
        #expect(counts["sent"] == 1_250 && counts["failed"] == 0, "waiting for tokens is never a failure: \(counts)")
        let attempts = try harness.query("SELECT max(attempts) FROM recipients WHERE batch_id = $1", [batch])
        #expect(attempts.first?[0] == "1", "waiting for tokens is never an attempt")
        let audit = try harness.query("SELECT subject_id, detail->>'perSecond' FROM audit_log WHERE action = 'limit.set'")
        #expect(audit.map { [$0[0], $0[1]] } == [["config:\(config)", "\(rate / 2)"]], "the change is in the audit log")
    }

    @Test("Two managed configs of one provider share its bucket: together they stay within the provider's managed limit")
    func managedConfigsShareTheProviderLimit() async throws {
        let limit = 40
        let sandbox = try TestSandbox(config: RateLimitTests.rateSandboxConfig)
        let harness = try PipelineHarness(tables: """
            [managed.telnyx]
            api_key = "KEYmanaged0123456789"
            public_key = "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
            base_url = "\(sandbox.url)"
            """, limits: "[limits]\nmanaged = { telnyx = \(limit) }\n")
        defer { harness.finish() }
        try harness.start("host")
        var batches: [String] = []
        for offset in [0, 5_000] {
            let config = try await harness.managedConfig("telnyx")
            let csv = PipelineTests.csv("phone,name", count: 300, offset: offset) { "+1312555\(String(format: "%04d", $0))" }
            batches.append(try await harness.batch(config: config, payload: ["text": "Hi {{name}}"], csv: csv))
        }
        for batch in batches { try await harness.call("POST", "/api/batches/\(batch)/send") }
        for batch in batches { try await harness.wait(batch, seconds: 90) }
        let times = try await RateLimitTests.arrivals(sandbox, "telnyx")
        #expect(times.count == 600)
        let busiest = RateLimitTests.busiestSecond(times)
        #expect(busiest <= limit * 11 / 10, "busiest second of both configs: \(busiest) > 1.1 × \(limit)")
        // Away from the start and the tail, the two keep the shared bucket busy.
        let middle = Self.arrivalCount(times, from: times.first! + 1_000, to: times.first! + 11_000)
        #expect(abs(middle - 10 * limit) <= 10 * limit / 20, "\(middle) messages in 10 s at a shared \(limit)/s: within 5%")
    }
}

/// The limits' tests that bound only from above, or only check the admin API: beside the webhook suite.
extension PipelineTests {
    @Test("A BYOK Resend config at its declared rate (5 requests/s) is paced in requests: full batches of 100, five a second")
    func pacedInRequests() async throws {
        let sandbox = try TestSandbox(config: RateLimitTests.rateSandboxConfig)
        let harness = try PipelineHarness(limits: "").started()
        defer { harness.finish() }
        let config = try await harness.sendConfig("resend", sandbox: sandbox.url)
        let batch = try await harness.sentBatch(config: config, payload: PipelineTests.emailPayload, csv: PipelineTests.csv(count: 1_500))
        let detail = try await harness.wait(batch, seconds: 60)
        #expect(PipelineHarness.counts(detail)["sent"] == 1_500)
        let stats = PipelineTests.section(try await sandbox.stats(), "resend")
        // Counted in messages (the old unit), the bucket cut batches to a twelfth of a second's worth.
        #expect(stats["requests"] == 15 && stats["messages_accepted"] == 1_500, "full batches: \(stats)")
        let times = try await RateLimitTests.arrivals(sandbox, "resend")
        #expect(RateLimitTests.busiestSecond(times) <= 600, "at most 5 requests of 100 in a second, 6 at a window's edges: \(RateLimitTests.busiestSecond(times))")
        #expect((times.last ?? 0) - (times.first ?? 0) >= 2_000, "15 requests at 5 a second take more than 2 s")
    }

    @Test("The admin API: operators only (a user key is 403, no token 401), bad limits refused naming the field, unknown ids 404, changes listed")
    func adminAPI() async throws {
        let harness = try PipelineHarness(limits: "[limits]\nsystem = 5000\n").started(roles: "api")
        defer { harness.finish() }
        let config = try await harness.sendConfig("resend", sandbox: "http://127.0.0.1:9")
        try await harness.call("GET", "/admin/limits", expect: 403)
        try await harness.call("GET", "/admin/limits", expect: 401, token: "not-the-admin-token")
        for bad: Any in [0, -5, "fast", 1e12, 2.5] {
            let answer = try await harness.admin("PUT", "/admin/limits/system", json: ["perSecond": bad], expect: 422)
            #expect((answer["error"] as? [String: Any])?["field"] as? String == "perSecond", "\(bad): \(answer)")
        }
        try await harness.admin("PUT", "/admin/limits/system", json: ["perSecond": 10, "burst": 3], expect: 422)
        try await harness.admin("PUT", "/admin/limits/providers/mailgun", json: ["perSecond": 10], expect: 404)
        try await harness.admin("PUT", "/admin/limits/send-configs/\(UUID().uuidString)", json: ["perSecond": 10], expect: 404)
        try await harness.admin("GET", "/admin/limits/send-configs/not-an-id", expect: 404)

        var listed = try await harness.admin("GET", "/admin/limits")
        #expect((listed["system"] as? [String: Any])?["perSecond"] as? Int == 5000)
        #expect((listed["system"] as? [String: Any])?["source"] as? String == "config")
        let shown = try await harness.admin("GET", "/admin/limits/send-configs/\(config)")
        // Resend's declared 5 requests/s, each of up to 100 messages: 500 messages/s at most.
        #expect(shown["perSecond"] as? Int == 500 && shown["source"] as? String == "providerDefault", "Resend's default: \(shown)")

        try await harness.admin("PUT", "/admin/limits/system", json: ["perSecond": 700])
        try await harness.admin("PUT", "/admin/limits/providers/ses", json: ["perSecond": 9])
        try await harness.admin("PUT", "/admin/limits/send-configs/\(config)", json: ["perSecond": 3])
        listed = try await harness.admin("GET", "/admin/limits")
        #expect((listed["system"] as? [String: Any])?["perSecond"] as? Int == 700)
        let ses = (listed["providers"] as? [[String: Any]] ?? []).first { $0["provider"] as? String == "ses" }
        #expect((ses?["managed"] as? [String: Any])?["perSecond"] as? Int == 9)
        #expect((listed["sendConfigs"] as? [[String: Any]] ?? []).map { $0["id"] as? String } == [config])
        let overridden = try await harness.admin("GET", "/admin/limits/send-configs/\(config)")
        #expect(overridden["perSecond"] as? Int == 3 && overridden["source"] as? String == "admin")

        // Redis lost its data: the API puts the stored overrides back when it starts.
        harness.stopHosts()
        let redis = try RedisConnection(url: try StackEnvironment.value("REDIS_URL"))
        _ = try redis.command(["DEL", "test:\(harness.databaseName):limits:overrides"])
        try harness.start("host", roles: "api")
        let restored = try await harness.admin("GET", "/admin/limits/send-configs/\(config)")
        #expect(restored["perSecond"] as? Int == 3, "restored from PostgreSQL: \(restored)")

        try await harness.admin("DELETE", "/admin/limits/send-configs/\(config)", expect: 204)
        let cleared = try await harness.admin("GET", "/admin/limits/send-configs/\(config)")
        #expect(cleared["source"] as? String == "providerDefault")
        let actions = try harness.query("SELECT action FROM audit_log WHERE subject_type = 'rate_limit' ORDER BY id").compactMap { $0[0] }
        #expect(actions == ["limit.set", "limit.set", "limit.set", "limit.cleared"])
    }
}
