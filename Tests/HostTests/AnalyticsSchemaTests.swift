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

    @Test("A database of an earlier version, with a block written twice and a row without `recipients`, gets counting views filled from the events once each, even after a fill cut short; the old views stay for the old hosts; a second start fills nothing")
    func upgradeFillsCountingViews() async throws {
        let database = "schema_test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        let url = try StackEnvironment.value("CLICKHOUSE_URL")
        let client = try ClickHouseClient(url: url + (url.hasSuffix("/") ? "" : "/") + "?database=\(database)", http: CurlHTTPClient())
        try await client.createDatabase()
        try await client.execute(AnalyticsSchema.createEvents)
        for view in Self.earlierViews { try await client.execute(view) }

        let user = "schema-test", batch = UUID().uuidString.lowercased(), now = SystemClock.nowMilliseconds
        var events = (0..<30).map {
            AnalyticsEvent(timeMs: now, userID: user, batchID: batch, recipient: $0, sendConfigID: "c", provider: "resend", type: .delivered)
        }
        events.append(AnalyticsEvent(timeMs: now, userID: user, batchID: batch, recipient: 0, sendConfigID: "c", provider: "resend", type: .sent,
                                     count: 500))
        var body: [UInt8] = []
        AnalyticsEvent.encode(events, block: "block-1", into: &body)
        // The earlier version's cut-short insert sent again: every row twice.
        try await client.insert(into: AnalyticsSchema.events, jsonEachRow: body)
        try await client.insert(into: AnalyticsSchema.events, jsonEachRow: body)
        // A row spilled by a version before `recipients`: the field left out, read as 0, counted once.
        let old = #"{"event_time":"\#(now / 1000)","user_id":"\#(user)","batch_id":"\#(batch)","recipient":31,"send_config_id":"c","provider":"resend","event_type":"bounced","bounce_class":"hard","reason":"","provider_message_id":"","event_id":"e","block_id":"block-0"}"#
        try await client.insert(into: AnalyticsSchema.events, jsonEachRow: Array((old + "\n").utf8))

        let store = AnalyticsStore(client: client)
        let from = now / 1000 - 86_400, to = now / 1000 + 86_400
        func reads() async throws -> [[Int]] {
            let overview = try await store.overview(userID: user, fromSec: from, toSec: to, sendConfigID: nil)
            let hourly = try await store.timeseries(userID: user, interval: .hour, fromSec: from, toSec: to, sendConfigID: nil)
            let daily = try await store.timeseries(userID: user, interval: .day, fromSec: from, toSec: to, sendConfigID: nil)
            let perBatch = try await store.batch(userID: user, batchID: batch)
            return [[perBatch[.sent], perBatch[.delivered], perBatch[.bounced]], [overview[.sent], overview[.delivered], overview[.bounced]],
                    [AnalyticsEventType.sent, .delivered, .bounced].map { type in hourly.values.reduce(0) { $0 + $1[type] } },
                    [AnalyticsEventType.sent, .delivered, .bounced].map { type in daily.values.reduce(0) { $0 + $1[type] } }]
        }
        let once = [[500, 30, 1], [500, 30, 1], [500, 30, 1], [500, 30, 1]]
        try await AnalyticsSchema.create(client)
        // A fill that stopped after the first view: the next one fills that view again.
        try await client.execute(AnalyticsSchema.batchCounts.fill(from: AnalyticsSchema.events))
        #expect(try await AnalyticsSchema.fillViews(client))
        #expect(try await reads() == once)
        let names = try await client.rows("SELECT name FROM system.tables WHERE database = currentDatabase() AND name NOT LIKE '.inner.%'")
        let kept = Set(names.compactMap { $0["name"]?.stringValue })
        #expect(kept.isSuperset(of: ["batch_stats", "event_blocks"]), "the old views are left")

        func viewRows() async throws -> Int {
            var rows = 0
            for view in AnalyticsSchema.views {
                rows += try await client.rows("SELECT count() AS n FROM \(view.name)").first?["n"]?.stringValue.flatMap(Int.init) ?? 0
            }
            return rows
        }
        let before = try await viewRows()
        try await AnalyticsSchema.create(client)
        #expect(try await !AnalyticsSchema.fillViews(client), "a second start fills nothing")
        #expect(try await viewRows() <= before, "merges may only take rows away")
        #expect(try await reads() == once)
        try await client.dropDatabase()
    }
}
