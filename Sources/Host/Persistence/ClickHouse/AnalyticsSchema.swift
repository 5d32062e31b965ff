import Domain
import HostCore
/// The analytics tables, created idempotently at start-up. Within what ClickHouse 18.16 (Debian's) supports:
/// no LowCardinality, no DateTime64, materialized views with inner engines.
///
/// `email_events` holds one row per event; its sorting key is the event's identity, so a row written
/// twice is one row after `FINAL`. A row stands for `recipients` recipients (a chunk's `queued`, a round's
/// `sent`: one row, not a row per recipient, which cost ClickHouse more CPU than any other part of a send).
///
/// The counting views are what the API reads. An insert reaches the table and then each view in turn, so
/// one cut short (ClickHouse stopped mid-insert) can leave a block counted by some views and not others;
/// the writer therefore sends a block again whenever it does not know it landed. Each view keeps one row
/// per block and key (`block_id` is in its sorting key, and a block of at most `flush_rows` ≤ 500,000 rows
/// reaches a view as one block), so a block sent twice leaves two equal rows that `FINAL` reads as one.
public enum AnalyticsSchema {
    public static let events = "email_events"
    public static let batchCounts = CountingView(
        name: "batch_counts", partition: nil, key: ["user_id", "batch_id", "event_type", "bounce_class"], computed: [:])
    public static let hourlyCounts = CountingView(
        name: "hourly_counts", partition: "toYYYYMM(hour)",
        key: ["user_id", "hour", "send_config_id", "provider", "event_type", "bounce_class"], computed: ["hour": "toStartOfHour(event_time)"])
    public static let dailyCounts = CountingView(
        name: "daily_counts", partition: "toYYYYMM(day)",
        key: ["user_id", "day", "send_config_id", "provider", "event_type", "bounce_class"], computed: ["day": "toDate(event_time)"])
    static let views = [batchCounts, hourlyCounts, dailyCounts]
    /// The views of earlier versions: summing views, which counted a block twice when an insert cut short was
    /// sent again, and the block lookup that decided whether to send it. Dropped once the counting views are
    /// filled from the events.
    static let retired = ["batch_stats", "batch_stats_more", "hourly_stats", "hourly_stats_more",
                          "daily_stats", "daily_stats_more", "event_blocks"]

    /// The columns a writer sends, in `email_events`' order.
    public static let columns = ["event_time", "user_id", "batch_id", "recipient", "send_config_id", "provider", "event_type",
                                 "bounce_class", "reason", "provider_message_id", "event_id", "block_id", "recipients"]

    static let createEvents = """
        CREATE TABLE IF NOT EXISTS \(events) (
            event_time DateTime, event_date Date DEFAULT toDate(event_time),
            user_id String, batch_id String, recipient UInt32, send_config_id String, provider String,
            event_type String, bounce_class String, reason String, provider_message_id String, event_id String, block_id String,
            recipients UInt64 DEFAULT 1
        ) ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(event_date)
          ORDER BY (user_id, batch_id, recipient, event_type, event_id)
        """

    /// Creates the database and every table and view that is missing. A table made before rows were counted gains the
    /// `recipients` column first. A counting view just made, or made while an earlier version's views are still there (a
    /// start that stopped half-way), is filled from the events (`FINAL`: a row once); what the view itself took from
    /// inserts meanwhile is the same rows, which `FINAL` reads once. Only then are the retired views dropped.
    public static func create(_ client: ClickHouseClient) async throws(ClickHouseError) {
        try await client.createDatabase()
        try await client.execute(createEvents)
        if try await !exists(column: "recipients", in: events, client) {
            try await client.execute("ALTER TABLE \(events) ADD COLUMN recipients UInt64 DEFAULT 1")
        }
        var retiredLeft = false
        for name in retired where try await exists(table: name, client) { retiredLeft = true }
        for view in views {
            let existed = try await exists(table: view.name, client)
            try await client.execute(view.create(from: events))
            if !existed || retiredLeft { try await client.execute(view.fill(from: events)) }
        }
        for name in retired { try await client.execute("DROP TABLE IF EXISTS \(name)") }
    }

    private static func exists(table: String, _ client: ClickHouseClient) async throws(ClickHouseError) -> Bool {
        try await count("SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = \(ClickHouseClient.literal(table))",
                        client) > 0
    }

    private static func exists(column: String, in table: String, _ client: ClickHouseClient) async throws(ClickHouseError) -> Bool {
        try await count("""
            SELECT count() AS n FROM system.columns
            WHERE database = currentDatabase() AND table = \(ClickHouseClient.literal(table)) AND name = \(ClickHouseClient.literal(column))
            """, client) > 0
    }

    private static func count(_ query: String, _ client: ClickHouseClient) async throws(ClickHouseError) -> Int {
        switch try await client.rows(query).first?["n"] {
        case .string(let text)?: Int(text) ?? 0
        case .number(let number)?: Int(number)
        default: 0
        }
    }
}

/// A view counting the events' recipients by `key`, one row per insert block and key.
public struct CountingView: Sendable {
    public let name: String
    let partition: String?
    /// The view's columns before `block_id`: its sorting key, and what a read filters and groups by.
    let key: [String]
    /// Columns computed from the event's (the rest are the event's own).
    let computed: [String: String]

    /// What one row of the events counts: a row from before `recipients` existed (a block spilled to disk by an earlier
    /// version, sent without the column) reads it as 0 or 1, and counts once.
    private static let recipients = "toUInt64(sum(greatest(recipients, 1))) AS events"

    private func select(from table: String, final: Bool) -> String {
        let columns = key.map { column in computed[column].map { "\($0) AS \(column)" } ?? column }
        return """
            SELECT \(columns.joined(separator: ", ")), block_id, \(Self.recipients)
            FROM \(table)\(final ? " FINAL" : "") GROUP BY \(key.joined(separator: ", ")), block_id
            """
    }

    func create(from table: String) -> String {
        """
        CREATE MATERIALIZED VIEW IF NOT EXISTS \(name)
        ENGINE = ReplacingMergeTree() \(partition.map { "PARTITION BY \($0) " } ?? "")ORDER BY (\(key.joined(separator: ", ")), block_id)
        AS \(select(from: table, final: false))
        """
    }

    func fill(from table: String) -> String {
        "INSERT INTO \(name) \(select(from: table, final: true))"
    }

    /// What follows `FROM` in a read of the rows meeting `condition`, a block sent twice counted once.
    func rows(where condition: String) -> String {
        "\(name) FINAL WHERE \(condition)"
    }
}
