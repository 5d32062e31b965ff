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
/// per block and key (`block_id` is in its sorting key, and an insert reaches a view as one block: see
/// `ClickHouseClient.insert`), so a block sent twice leaves two equal rows that `FINAL` reads as one. Every key
/// holds the event's month (its partition in the table, whatever the server's time zone) and starts with the user,
/// so that the fill, a month and a range of users at a time, makes the same rows as the inserts did.
///
/// The views' names sort before `event_blocks`: ClickHouse 18.16 writes a table's views in the order of their names,
/// and a host of the earlier version takes a block it finds in `event_blocks` as landed, so the counting views must
/// have it by then.
public enum AnalyticsSchema {
    public static let events = "email_events"
    public static let batchCounts = CountingView(
        name: "counts_by_batch", partition: "month", key: ["user_id", "batch_id", "event_type", "bounce_class", "month"],
        computed: ["month": month])
    public static let hourlyCounts = CountingView(
        name: "counts_by_hour", partition: "toYYYYMM(hour)",
        key: ["user_id", "hour", "send_config_id", "provider", "event_type", "bounce_class", "month"],
        computed: ["hour": "toStartOfHour(event_time)", "month": month])
    public static let dailyCounts = CountingView(
        name: "counts_by_day", partition: "toYYYYMM(day)",
        key: ["user_id", "day", "send_config_id", "provider", "event_type", "bounce_class", "month"],
        computed: ["day": "toDate(event_time)", "month": month])
    static let views = [batchCounts, hourlyCounts, dailyCounts]
    /// `email_events`' partition.
    static let month = "toYYYYMM(event_date)"
    /// What has been done to the tables once, by name: a step recorded here is not done again.
    static let steps = "analytics_steps"
    static let viewsFilled = "counts_by views filled"
    /// A month is filled in slices of users, by the id's first character (ids are lower-case UUIDs; anything else falls
    /// in the first or the last slice): `user_id` leads the events' sorting key, so a slice reads only its own rows.
    static let userSlices: [String] = {
        let bounds = "123456789abcdef".map { ClickHouseClient.literal(String($0)) }
        return ["user_id < \(bounds[0])"] + zip(bounds, bounds.dropFirst()).map { "user_id >= \($0) AND user_id < \($1)" }
            + ["user_id >= \(bounds[bounds.count - 1])"]
    }()
    /// The longest a fill's statement may run: the server stops it then, as its client stops waiting.
    public static let fillSeconds = 3_600

    /// The columns a writer sends, in `email_events`' order.
    public static let columns = ["event_time", "event_date", "user_id", "batch_id", "recipient", "send_config_id", "provider", "event_type",
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

    /// Creates the database and every table and view that is missing; quick, so a writer or a reader can do it before
    /// anything else. A table made before rows were counted gains the `recipients` column first.
    ///
    /// An earlier version counted in summing views (`batch_stats`, `hourly_stats`, `daily_stats`, their `…_more`
    /// companions) and kept `event_blocks`. They are left as they are: hosts of that version may still be running and
    /// reading them during an upgrade.
    public static func create(_ client: ClickHouseClient) async throws(ClickHouseError) {
        try await client.createDatabase()
        try await client.execute(createEvents)
        if try await !exists(column: "recipients", in: events, client) {
            try await client.execute("ALTER TABLE \(events) ADD COLUMN recipients UInt64 DEFAULT 1")
        }
        for view in views { try await client.execute(view.create(from: events)) }
        try await client.execute("CREATE TABLE IF NOT EXISTS \(steps) (name String, done_at DateTime) ENGINE = MergeTree() ORDER BY name")
    }

    /// Fills the counting views with the events written before they existed, once: false when that was done before.
    /// Long (it reads every event, `FINAL`, a month and a slice of users at a time, each slice recorded as done), so
    /// `client` should allow a statement `fillSeconds`; run it again after a failure, and it goes on from the slice it
    /// stopped in. What a view took from inserts meanwhile is the same rows, which `FINAL` reads once. One process fills
    /// at a time (`claimant` names it): another gets `FillError.elsewhere` and should try again later. Between
    /// statements, cancellation throws `CancellationError`; a statement under way runs on in the server.
    public static func fillViews(_ client: ClickHouseClient, claimant: String) async throws -> Bool {
        guard try await !done(viewsFilled, client) else { return false }
        try await claim(claimant, client)
        // An insert that began before the views existed reaches the events but not the views: let those finish, so the
        // fill reads them. (`system.processes` does not say which database a query writes to: another deployment's
        // inserts are waited for too.)
        let running = try await client.rows("SELECT query_id FROM system.processes WHERE query LIKE 'INSERT INTO \(events) %'")
            .compactMap { $0["query_id"]?.stringValue }
        if !running.isEmpty {
            let ids = running.map(ClickHouseClient.literal).joined(separator: ", ")
            // At most ten minutes: an insert that takes longer has long been given up by its writer, which sends it again.
            for _ in 0..<600 {
                guard try await count("SELECT count() AS n FROM system.processes WHERE query_id IN (\(ids))", client) > 0 else { break }
                try await Task.sleep(for: .seconds(1))
            }
        }
        let partitions = try await client.rows("""
            SELECT DISTINCT partition FROM system.parts WHERE database = currentDatabase() AND table = '\(events)' AND active ORDER BY partition
            """).compactMap { $0["partition"]?.stringValue }
        for partition in partitions {
            guard partition.count == 6, partition.allSatisfy(\.isASCII), Int(partition) != nil else {
                throw ClickHouseError(.refused, "\(events) has a partition '\(partition)' that is not a month (YYYYMM): the views cannot be filled")
            }
            for (index, users) in userSlices.enumerated() {
                let step = "\(viewsFilled): \(partition): \(index)"
                guard try await !done(step, client) else { continue }
                for view in views {
                    try Task.checkCancellation()
                    try await client.execute(view.fill(from: events, where: "\(month) = \(partition) AND \(users)"),
                                             settings: "max_execution_time=\(fillSeconds)")
                }
                try await record(step, client)
                try await claim(claimant, client)
            }
        }
        try await record(viewsFilled, client)
        return true
    }

    public enum FillError: Error, CustomStringConvertible {
        case elsewhere(String)
        public var description: String {
            switch self {
            case .elsewhere(let claimant): "another process (\(claimant)) is filling the counting views: try again later"
            }
        }
    }

    /// Claims the fill, or renews the claim; throws when another process holds it. A claim lapses when not renewed for
    /// longer than a statement may run: its process died. Of the live claims the oldest wins, the same for every reader.
    private static func claim(_ claimant: String, _ client: ClickHouseClient) async throws {
        try await record("claim: \(claimant)", client)
        let holder = try await client.rows("""
            SELECT name FROM \(steps) WHERE name LIKE 'claim: %' GROUP BY name HAVING max(done_at) > now() - \(fillSeconds + 300)
            ORDER BY min(done_at), name LIMIT 1
            """).first?["name"]?.stringValue
        guard let holder, holder != "claim: \(claimant)" else { return }
        throw FillError.elsewhere(String(holder.dropFirst("claim: ".count)))
    }

    private static func done(_ step: String, _ client: ClickHouseClient) async throws(ClickHouseError) -> Bool {
        try await count("SELECT count() AS n FROM \(steps) WHERE name = \(ClickHouseClient.literal(step))", client) > 0
    }

    private static func record(_ step: String, _ client: ClickHouseClient) async throws(ClickHouseError) {
        try await client.execute("INSERT INTO \(steps) (name, done_at) VALUES (\(ClickHouseClient.literal(step)), now())")
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
    let partition: String
    /// The view's columns before `block_id`: its sorting key, and what a read filters and groups by.
    let key: [String]
    /// Columns computed from the event's (the rest are the event's own).
    let computed: [String: String]

    /// What one row of the events counts: a row from before `recipients` existed (a block spilled to disk by an earlier
    /// version, sent without the column) reads it as 0 or 1, and counts once.
    private static let recipients = "toUInt64(sum(greatest(recipients, 1))) AS events"

    /// The view's query; its fill is the same query, since `INSERT INTO` a view writes its columns by position.
    private func select(from table: String, final: Bool, where condition: String? = nil) -> String {
        let columns = key.map { column in computed[column].map { "\($0) AS \(column)" } ?? column }
        return """
            SELECT \(columns.joined(separator: ", ")), block_id, \(Self.recipients)
            FROM \(table)\(final ? " FINAL" : "")\(condition.map { " WHERE \($0)" } ?? "") GROUP BY \(key.joined(separator: ", ")), block_id
            """
    }

    func create(from table: String) -> String {
        """
        CREATE MATERIALIZED VIEW IF NOT EXISTS \(name)
        ENGINE = ReplacingMergeTree() PARTITION BY \(partition) ORDER BY (\(key.joined(separator: ", ")), block_id)
        AS \(select(from: table, final: false))
        """
    }

    func fill(from table: String, where condition: String? = nil) -> String {
        "INSERT INTO \(name) \(select(from: table, final: true, where: condition))"
    }

    /// What follows `FROM` in a read of the rows meeting `condition`, a block sent twice counted once.
    func rows(where condition: String) -> String {
        "\(name) FINAL WHERE \(condition)"
    }
}
