import Domain
import HostCore
/// The analytics tables, created idempotently at start-up. Within what ClickHouse 18.16 (Debian's) supports:
/// no LowCardinality, no DateTime64, materialized views with inner engines.
///
/// `email_events` holds one row per event; its sorting key is the event's identity, so a row written
/// twice is one row after `FINAL`. The views sum counts as rows arrive and are what the API reads;
/// the writer makes each row arrive once (see `EventWriter`), and `event_blocks` lets it ask whether
/// a block whose insert got no answer landed.
///
/// A row stands for `recipients` recipients (a chunk's `queued`, a round's `sent`: one row, not a row per
/// recipient, which cost ClickHouse more CPU than any other part of a send). The first views count rows,
/// and a view's query cannot be changed in place here, so each has a companion (`…_more`) that adds what a
/// row counts beyond one; readers sum both (`summed`). A row from before the column (a block spilled to
/// disk by an earlier version) reads `recipients` as 0 or 1, and counts once.
public enum AnalyticsSchema {
    public static let events = "email_events"
    public static let batchStats = "batch_stats"
    public static let hourlyStats = "hourly_stats"
    public static let dailyStats = "daily_stats"
    public static let blocks = "event_blocks"
    /// What a view's companion is called.
    static func more(_ view: String) -> String { view + "_more" }

    /// The columns a writer sends, in `email_events`' order.
    public static let columns = ["event_time", "user_id", "batch_id", "recipient", "send_config_id", "provider", "event_type",
                                 "bounce_class", "reason", "provider_message_id", "event_id", "block_id", "recipients"]

    static let statements = [
        """
        CREATE TABLE IF NOT EXISTS \(events) (
            event_time DateTime, event_date Date DEFAULT toDate(event_time),
            user_id String, batch_id String, recipient UInt32, send_config_id String, provider String,
            event_type String, bounce_class String, reason String, provider_message_id String, event_id String, block_id String,
            recipients UInt64 DEFAULT 1
        ) ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(event_date)
          ORDER BY (user_id, batch_id, recipient, event_type, event_id)
        """,
        """
        CREATE MATERIALIZED VIEW IF NOT EXISTS \(batchStats)
        ENGINE = SummingMergeTree() ORDER BY (user_id, batch_id, event_type, bounce_class)
        AS SELECT user_id, batch_id, event_type, bounce_class, toUInt64(count()) AS events
        FROM \(events) GROUP BY user_id, batch_id, event_type, bounce_class
        """,
        """
        CREATE MATERIALIZED VIEW IF NOT EXISTS \(hourlyStats)
        ENGINE = SummingMergeTree() PARTITION BY toYYYYMM(hour) ORDER BY (user_id, hour, send_config_id, provider, event_type, bounce_class)
        AS SELECT user_id, toStartOfHour(event_time) AS hour, send_config_id, provider, event_type, bounce_class, toUInt64(count()) AS events
        FROM \(events) GROUP BY user_id, hour, send_config_id, provider, event_type, bounce_class
        """,
        """
        CREATE MATERIALIZED VIEW IF NOT EXISTS \(dailyStats)
        ENGINE = SummingMergeTree() PARTITION BY toYYYYMM(day) ORDER BY (user_id, day, send_config_id, provider, event_type, bounce_class)
        AS SELECT user_id, toDate(event_time) AS day, send_config_id, provider, event_type, bounce_class, toUInt64(count()) AS events
        FROM \(events) GROUP BY user_id, day, send_config_id, provider, event_type, bounce_class
        """,
        moreView(batchStats, engine: "ORDER BY (user_id, batch_id, event_type, bounce_class)",
                 columns: "user_id, batch_id, event_type, bounce_class", groupBy: "user_id, batch_id, event_type, bounce_class"),
        moreView(hourlyStats, engine: "PARTITION BY toYYYYMM(hour) ORDER BY (user_id, hour, send_config_id, provider, event_type, bounce_class)",
                 columns: "user_id, toStartOfHour(event_time) AS hour, send_config_id, provider, event_type, bounce_class",
                 groupBy: "user_id, hour, send_config_id, provider, event_type, bounce_class"),
        moreView(dailyStats, engine: "PARTITION BY toYYYYMM(day) ORDER BY (user_id, day, send_config_id, provider, event_type, bounce_class)",
                 columns: "user_id, toDate(event_time) AS day, send_config_id, provider, event_type, bounce_class",
                 groupBy: "user_id, day, send_config_id, provider, event_type, bounce_class"),
        """
        CREATE MATERIALIZED VIEW IF NOT EXISTS \(blocks)
        ENGINE = SummingMergeTree() ORDER BY block_id
        AS SELECT block_id, toUInt64(count()) AS rows FROM \(events) GROUP BY block_id
        """,
    ]

    /// The companion of a counting view: what rows count beyond one, in the view's columns and order.
    private static func moreView(_ view: String, engine: String, columns: String, groupBy: String) -> String {
        """
        CREATE MATERIALIZED VIEW IF NOT EXISTS \(more(view))
        ENGINE = SummingMergeTree() \(engine)
        AS SELECT \(columns), toUInt64(sum(recipients - 1)) AS events
        FROM \(events) WHERE recipients > 1 GROUP BY \(groupBy)
        """
    }

    /// A counting view and its companion, filtered by `condition` each (ClickHouse 18.16 does not push a filter
    /// outside a UNION into it: each read would scan every tenant's rows), as one table to sum `events` over.
    static func summed(_ view: String, where condition: String) -> String {
        "(SELECT * FROM \(view) WHERE \(condition) UNION ALL SELECT * FROM \(more(view)) WHERE \(condition))"
    }

    /// Creates the database and every table and view that is missing; a table made before rows were counted
    /// gains the `recipients` column first, so its companion views can read it.
    public static func create(_ client: ClickHouseClient) async throws(ClickHouseError) {
        try await client.createDatabase()
        try await client.execute(statements[0])
        let counted = try await client.rows("""
            SELECT count() AS n FROM system.columns WHERE database = currentDatabase() AND table = '\(events)' AND name = 'recipients'
            """)
        if counted.first?["n"].map({ $0 == .number(0) || $0 == .string("0") }) ?? true {
            try await client.execute("ALTER TABLE \(events) ADD COLUMN recipients UInt64 DEFAULT 1")
        }
        for statement in statements.dropFirst() { try await client.execute(statement) }
    }
}
