import Analytics
import Domain
import Foundation
import HostCore
import Persistence
import ProviderInstances
import TestSupport
import Testing

/// The analytics store end to end: a batch sent with its webhooks, then the analytics endpoints
/// against the recipients' rows and events in PostgreSQL.
/// Part of PipelineWebhookTests (a test at a time, beside the sends).
extension PipelineWebhookTests {
    /// PostgreSQL's `recipient_events.type` for each analytics type a webhook records.
    static let webhookTypes: [AnalyticsEventType: String] = [
        .delivered: "delivered", .deferred: "deferred", .bounced: "bounced", .complained: "complained", .rejected: "rejected",
        .undelivered: "failed", .opened: "opened", .clicked: "clicked", .unsubscribed: "unsubscribed",
    ]

    @Test("After a batch and its webhooks, the batch stats, the overview and both time series equal the recipients' rows and events; filters, validation and ownership hold")
    func analyticsEqualRows() async throws {
        let harness = try PipelineHarness().started(roles: Self.allRoles)
        defer { harness.finish() }
        let sandboxPort = try LoopbackPort.free()
        let config = try await harness.sendConfig("resend", sandbox: "http://127.0.0.1:\(sandboxPort)")
        let webhookURL = try await harness.call("GET", "/api/send-configs/\(config)")["webhookUrl"] as? String ?? ""
        let sandbox = try TestSandbox(webhookURLs: ["resend=\(webhookURL)"], port: sandboxPort)
        let count = 400
        let (csv, payload) = Self.recipients("resend", count: count)
        let batch = try await harness.sentBatch(config: config, payload: payload, csv: csv)
        try await harness.wait(batch)
        let (_, _, mismatches) = try await Self.settle(harness, sandbox, provider: "resend", batch: batch)
        #expect(mismatches.isEmpty)

        // What the rows say.
        var expected: [String: Int] = Dictionary(uniqueKeysWithValues: AnalyticsEventType.allCases.map { ($0.rawValue, 0) })
        expected["queued"] = Int(try harness.query("SELECT count(*) FROM recipients WHERE batch_id = $1", [batch])[0][0] ?? "") ?? -1
        expected["sent"] = Int(try harness.query("SELECT count(*) FROM recipients WHERE batch_id = $1 AND sent_at IS NOT NULL", [batch])[0][0] ?? "") ?? -1
        for row in try harness.query("SELECT type, count(*) FROM recipient_events WHERE batch_id = $1 GROUP BY type", [batch]) {
            guard let type = Self.webhookTypes.first(where: { $0.value == row[0] })?.key else { continue }
            expected[type.rawValue] = Int(row[1] ?? "") ?? -1
        }
        let bounces = try harness.query("""
            SELECT count(*) FILTER (WHERE bounce_class IS DISTINCT FROM 'soft'), count(*) FILTER (WHERE bounce_class = 'soft')
            FROM recipient_events WHERE batch_id = $1 AND type = 'bounced'
            """, [batch])[0]
        expected["bouncedHard"] = Int(bounces[0] ?? "") ?? -1
        expected["bouncedSoft"] = Int(bounces[1] ?? "") ?? -1
        let rows = try harness.rowsByStatus(batch)
        #expect(expected["bounced"] == rows["bounced"] ?? 0 && expected["complained"] == rows["complained"] ?? 0
                && expected["undelivered"] == rows["failed"] ?? 0, "one final event per recipient: \(expected) \(rows)")
        #expect(expected["sent"] == count && (expected["delivered"] ?? 0) > 0 && (expected["opened"] ?? 0) > 0)

        func counts(_ object: [String: Any]) -> [String: Int] { (object["counts"] as? [String: Any] ?? [:]).compactMapValues { $0 as? Int } }
        func summed(_ series: [String: Any]) -> [String: Int] {
            var summed: [String: Int] = [:]
            for bucket in series["buckets"] as? [[String: Any]] ?? [] {
                for (type, value) in counts(bucket) { summed[type, default: 0] += value }
            }
            return summed
        }
        // The writer flushes every 200 ms here, and ClickHouse feeds an insert to its views one after
        // another: each endpoint is read until it agrees (or 30 s pass), and each must agree in the end.
        func settled(_ path: String, _ read: ([String: Any]) -> [String: Int]) async throws -> (object: [String: Any], counts: [String: Int]) {
            var object: [String: Any] = [:]
            _ = try? await eventually("\(path) agreeing with the rows", timeout: .seconds(30), interval: .milliseconds(250)) {
                object = try await harness.call("GET", path)
                return read(object) == expected
            }
            return (object, read(object))
        }
        let stats = try await settled("/api/batches/\(batch)/stats", counts)
        #expect(stats.counts == expected)
        let rates = stats.object["rates"] as? [String: Any] ?? [:]
        let delivery = Double(expected["delivered"] ?? 0) / Double(count)
        #expect(abs((rates["delivery"] as? Double ?? -1) - delivery) < 0.0001)

        // The caller's overview and series cover the same events (this user sent one batch).
        #expect(try await settled("/api/analytics/overview", counts).counts == expected)
        #expect(try await settled("/api/analytics/overview?sendConfigId=\(config)", counts).counts == expected)
        let elsewhere = counts(try await harness.call("GET", "/api/analytics/overview?sendConfigId=\(UUID().uuidString)"))
        #expect(elsewhere.values.allSatisfy { $0 == 0 } && elsewhere.count == expected.count)
        for interval in ["hour", "day"] {
            let series = try await settled("/api/analytics/timeseries?interval=\(interval)", summed)
            #expect(series.counts == expected, "\(interval) series")
            // The default period is the last 7 days, widened to whole buckets: a bucket for each, empty ones included.
            let buckets = (series.object["buckets"] as? [Any])?.count ?? 0
            #expect(interval == "hour" ? (168...169).contains(buckets) : (7...8).contains(buckets), "\(buckets) \(interval) buckets")
        }

        // Bad input is named; another user's batch is not found.
        try await harness.call("GET", "/api/analytics/timeseries?interval=week", expect: 422)
        try await harness.call("GET", "/api/analytics/overview?from=2026-02-30T00:00:00Z", expect: 422)
        try await harness.call("GET", "/api/analytics/overview?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", expect: 422)
        try await harness.call("GET", "/api/analytics/overview?sendConfigId=nope", expect: 422)
        try await harness.call("GET", "/api/analytics/timeseries?interval=hour&from=2026-01-01T00:00:00Z&to=2026-12-01T00:00:00Z", expect: 422)
        let owner = harness.key
        harness.key = try harness.makeKey(email: "someone-else@example.com")
        try await harness.call("GET", "/api/batches/\(batch)/stats", expect: 404)
        #expect(counts(try await harness.call("GET", "/api/analytics/overview")).values.allSatisfy { $0 == 0 })
        harness.key = owner
    }
}
