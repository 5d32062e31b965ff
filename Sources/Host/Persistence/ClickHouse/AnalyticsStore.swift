import Domain
import HostCore
import ProviderModel

/// The analytics API's reads: the counting views in ClickHouse, never the event table, always scoped
/// to the caller. Ids are checked as UUIDs before they reach SQL, and quoted besides.
public struct AnalyticsStore: Sendable {
    public let client: ClickHouseClient

    public init(client: ClickHouseClient) { self.client = client }

    /// Event counts by type, with bounces split by class.
    public struct Counts: Sendable, Equatable {
        public var byType: [AnalyticsEventType: Int] = [:]
        public var hardBounces = 0
        public var softBounces = 0

        public init() {}

        public subscript(_ type: AnalyticsEventType) -> Int { byType[type] ?? 0 }

        public mutating func add(type: String, bounceClass: String, events: Int) {
            guard let known = AnalyticsEventType(rawValue: type) else { return }
            byType[known, default: 0] += events
            if known == .bounced { if bounceClass == "soft" { softBounces += events } else { hardBounces += events } }
        }
    }

    public func overview(userID: String, fromSec: Int64, toSec: Int64, sendConfigID: String?) async throws(ClickHouseError) -> Counts {
        let condition = """
            user_id = \(ClickHouseClient.literal(userID)) AND hour >= toDateTime(\(fromSec)) AND hour < toDateTime(\(toSec))
            \(Self.configFilter(sendConfigID))
            """
        let rows = try await client.rows("""
            SELECT event_type, bounce_class, sum(events) AS events FROM \(AnalyticsSchema.hourlyCounts.rows(where: condition))
            GROUP BY event_type, bounce_class
            """)
        return Self.counts(rows)
    }

    /// Counts per bucket (`hour` or `day`, UTC), keyed by the bucket's start in seconds; empty buckets are absent.
    public func timeseries(userID: String, interval: Interval, fromSec: Int64, toSec: Int64, sendConfigID: String?) async throws(ClickHouseError)
        -> [Int64: Counts] {
        let (view, column) = interval == .hour ? (AnalyticsSchema.hourlyCounts, "hour") : (AnalyticsSchema.dailyCounts, "day")
        let bound = interval == .hour ? "toDateTime" : "toDate(toDateTime"
        let close = interval == .hour ? "" : ")"
        let condition = """
            user_id = \(ClickHouseClient.literal(userID)) AND \(column) >= \(bound)(\(fromSec))\(close)
              AND \(column) < \(bound)(\(toSec))\(close)
            \(Self.configFilter(sendConfigID))
            """
        let rows = try await client.rows("""
            SELECT toUInt32(toDateTime(\(column))) AS bucket, event_type, bounce_class, sum(events) AS events
            FROM \(view.rows(where: condition))
            GROUP BY bucket, event_type, bounce_class
            """)
        var series: [Int64: Counts] = [:]
        for row in rows {
            guard let bucket = Self.number(row["bucket"]) else { continue }
            series[Int64(bucket), default: Counts()].add(type: row["event_type"]?.stringValue ?? "", bounceClass: row["bounce_class"]?.stringValue ?? "",
                                                         events: Self.number(row["events"]) ?? 0)
        }
        return series
    }

    public func batch(userID: String, batchID: String) async throws(ClickHouseError) -> Counts {
        let condition = "user_id = \(ClickHouseClient.literal(userID)) AND batch_id = \(ClickHouseClient.literal(batchID))"
        let rows = try await client.rows("""
            SELECT event_type, bounce_class, sum(events) AS events FROM \(AnalyticsSchema.batchCounts.rows(where: condition))
            GROUP BY event_type, bounce_class
            """)
        return Self.counts(rows)
    }

    public func createSchema() async throws(ClickHouseError) {
        try await AnalyticsSchema.create(client)
    }

    public enum Interval: String, CaseIterable, Sendable { case hour, day }

    private static func configFilter(_ id: String?) -> String {
        id.map { "AND send_config_id = \(ClickHouseClient.literal($0))" } ?? ""
    }

    private static func counts(_ rows: [JSONValue]) -> Counts {
        var counts = Counts()
        for row in rows {
            counts.add(type: row["event_type"]?.stringValue ?? "", bounceClass: row["bounce_class"]?.stringValue ?? "",
                       events: number(row["events"]) ?? 0)
        }
        return counts
    }

    /// ClickHouse writes 64-bit integers as strings in JSON, smaller ones as numbers.
    private static func number(_ value: JSONValue?) -> Int? {
        switch value {
        case .string(let text)?: Int(text)
        case .number(let number)?: Int(exactly: number)
        default: nil
        }
    }
}
