import Domain
import HostCore
/// The analytics tables, created idempotently at start-up. Within what ClickHouse 18.16 (Debian's) supports:
/// no LowCardinality, no DateTime64, materialized views with inner engines.
///
/// `email_events` holds one row per event; its sorting key is the event's identity, so a row written
/// twice is one row after `FINAL`. The views sum counts as rows arrive and are what the API reads;
/// the writer makes each row arrive once (see `EventWriter`), and `event_blocks` lets it ask whether
/// a block whose insert got no answer landed.
public enum AnalyticsSchema {
    public static let events = "email_events"
    public static let batchStats = "batch_stats"
    public static let hourlyStats = "hourly_stats"
    public static let dailyStats = "daily_stats"
    public static let blocks = "event_blocks"

    /// The columns a writer sends, in `email_events`' order.
    public static let columns = ["event_time", "user_id", "batch_id", "recipient", "send_config_id", "provider", "event_type",
                                 "bounce_class", "reason", "provider_message_id", "event_id", "block_id"]

    static let statements = [
        """
        CREATE TABLE IF NOT EXISTS \(events) (
            event_time DateTime, event_date Date DEFAULT toDate(event_time),
            user_id String, batch_id String, recipient UInt32, send_config_id String, provider String,
            event_type String, bounce_class String, reason String, provider_message_id String, event_id String, block_id String
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
        """
        CREATE MATERIALIZED VIEW IF NOT EXISTS \(blocks)
        ENGINE = SummingMergeTree() ORDER BY block_id
        AS SELECT block_id, toUInt64(count()) AS rows FROM \(events) GROUP BY block_id
        """,
    ]

    /// Creates the database and every table and view that is missing.
    public static func create(_ client: ClickHouseClient) async throws(ClickHouseError) {
        try await client.createDatabase()
        for statement in statements { try await client.execute(statement) }
    }
}
