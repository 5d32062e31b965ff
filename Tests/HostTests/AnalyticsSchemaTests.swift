import Domain
import Foundation
import HostCore
@testable import Persistence
import ProviderInstances
import ProviderModel
import TestSupport
import Testing

/// The analytics schema's start-up against the stack's ClickHouse, in a database of its own.
@Suite("Analytics schema")
struct AnalyticsSchemaTests {
    /// What an earlier version created beside `email_events`: summing views, which a repeated block counts twice.
    static let earlierViews = [
        """
        CREATE MATERIALIZED VIEW batch_stats ENGINE = SummingMergeTree() ORDER BY (user_id, batch_id, event_type, bounce_class)
        AS SELECT user_id, batch_id, event_type, bounce_class, toUInt64(count()) AS events FROM email_events
        GROUP BY user_id, batch_id, event_type, bounce_class
        """,
        """
        CREATE MATERIALIZED VIEW batch_stats_more ENGINE = SummingMergeTree() ORDER BY (user_id, batch_id, event_type, bounce_class)
        AS SELECT user_id, batch_id, event_type, bounce_class, toUInt64(sum(recipients - 1)) AS events FROM email_events
        WHERE recipients > 1 GROUP BY user_id, batch_id, event_type, bounce_class
        """,
        "CREATE MATERIALIZED VIEW event_blocks ENGINE = SummingMergeTree() ORDER BY block_id AS SELECT block_id, toUInt64(count()) AS rows FROM email_events GROUP BY block_id",
    ]

    @Test("A database of an earlier version, with a block written twice across a month's end and a row without `recipients`, gets counting views filled from the events once each, with a block written across a month's end after the views were made, and after a fill cut short; the old views stay for the old hosts; a second start fills nothing")
    func upgradeFillsCountingViews() async throws {
        let database = "schema_test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        let url = try StackEnvironment.value("CLICKHOUSE_URL")
        let client = try ClickHouseClient(url: url + (url.hasSuffix("/") ? "" : "/") + "?database=\(database)", http: CurlHTTPClient())
        try await client.createDatabase()
        try await client.execute(AnalyticsSchema.createEvents)
        for view in Self.earlierViews { try await client.execute(view) }

        let user = "schema-test", batch = UUID().uuidString.lowercased(), now = SystemClock.nowMilliseconds
        // A minute before and a minute after a month's end (UTC): the fill goes a month at a time.
        let november30 = try #require(ISO8601.milliseconds("2026-11-30T23:59:00Z")), december1 = november30 + 120_000
        var events = (0..<30).map {
            AnalyticsEvent(timeMs: november30, userID: user, batchID: batch, recipient: $0, sendConfigID: "c", provider: "resend", type: .delivered)
        }
        events.append(AnalyticsEvent(timeMs: december1, userID: user, batchID: batch, recipient: 0, sendConfigID: "c", provider: "resend",
                                     type: .sent, count: 500))
        var encoded: [UInt8] = []
        AnalyticsEvent.encode(events, block: "block-1", into: &encoded)
        // As the earlier version wrote it: without `event_date`, which ClickHouse 18.16 then reads as 0.
        let body = Array(String(decoding: encoded, as: UTF8.self).replacing(/"event_date":"[0-9-]+",/, with: "").utf8)
        #expect(!body.isEmpty && !String(decoding: body, as: UTF8.self).contains("event_date"))
        // The earlier version's cut-short insert sent again: every row twice.
        try await client.insert(into: AnalyticsSchema.events, jsonEachRow: body)
        try await client.insert(into: AnalyticsSchema.events, jsonEachRow: body)
        // A row spilled by a version before `recipients`: the field left out, read as 0, counted once.
        let old = #"{"event_time":"\#(now / 1000)","user_id":"\#(user)","batch_id":"\#(batch)","recipient":31,"send_config_id":"c","provider":"resend","event_type":"bounced","bounce_class":"hard","reason":"","provider_message_id":"","event_id":"e","block_id":"block-0"}"#
        try await client.insert(into: AnalyticsSchema.events, jsonEachRow: Array((old + "\n").utf8))

        let store = AnalyticsStore(client: client)
        let from = november30 / 1000 - 86_400, to = now / 1000 + 86_400
        func reads() async throws -> [[Int]] {
            let overview = try await store.overview(userID: user, fromSec: from, toSec: to, sendConfigID: nil)
            let hourly = try await store.timeseries(userID: user, interval: .hour, fromSec: from, toSec: to, sendConfigID: nil)
            let daily = try await store.timeseries(userID: user, interval: .day, fromSec: from, toSec: to, sendConfigID: nil)
            let perBatch = try await store.batch(userID: user, batchID: batch)
            let types: [AnalyticsEventType] = [.sent, .delivered, .bounced, .opened]
            return [types.map { perBatch[$0] }, types.map { overview[$0] },
                    types.map { type in hourly.values.reduce(0) { $0 + $1[type] } }, types.map { type in daily.values.reduce(0) { $0 + $1[type] } }]
        }
        let once = Array(repeating: [500, 30, 1, 20], count: 4)
        try await AnalyticsSchema.create(client)
        // Written once the views exist, across the month's end: the views count it as it comes, and the fill again.
        var live: [UInt8] = []
        AnalyticsEvent.encode((0..<20).map {
            AnalyticsEvent(timeMs: $0 < 10 ? november30 : december1, userID: user, batchID: batch, recipient: $0, sendConfigID: "c",
                           provider: "resend", type: .opened, eventID: "open-\($0)")
        }, block: "block-2", into: &live)
        try await client.insert(into: AnalyticsSchema.events, jsonEachRow: live)
        // A fill that stopped after the first view: the next one fills that view again. A claim of a process that
        // died long ago does not hold it up.
        try await client.execute(AnalyticsSchema.batchCounts.fill(from: AnalyticsSchema.events))
        try await client.execute("INSERT INTO \(AnalyticsSchema.steps) VALUES ('claim: died', now() - \(AnalyticsSchema.fillSeconds + 400))")
        #expect(try await AnalyticsSchema.fillViews(client, claimant: "test"))
        #expect(try await reads() == once)
        let names = try await client.rows("SELECT name FROM system.tables WHERE database = currentDatabase() AND name NOT LIKE '.inner.%'")
        let kept = Set(names.compactMap { $0["name"]?.stringValue })
        #expect(kept.isSuperset(of: ["batch_stats", "event_blocks"]), "the old views are left")

        try await AnalyticsSchema.create(client)
        #expect(try await !AnalyticsSchema.fillViews(client, claimant: "test"), "a second start fills nothing")
        #expect(try await reads() == once)
        try await client.dropDatabase()
    }

    @Test("While another process's claim on the fill is live, a second process does not fill")
    func oneFillerAtATime() async throws {
        let url = try StackEnvironment.value("CLICKHOUSE_URL")
        let database = "schema_test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        let client = try ClickHouseClient(url: url + (url.hasSuffix("/") ? "" : "/") + "?database=\(database)", http: CurlHTTPClient())
        try await AnalyticsSchema.create(client)
        try await client.execute("INSERT INTO \(AnalyticsSchema.steps) VALUES ('claim: other', now() - 5)")
        await #expect(throws: AnalyticsSchema.FillError.self) { try await AnalyticsSchema.fillViews(client, claimant: "test") }
        try await client.dropDatabase()
    }
}
