import Glibc
import Domain
import HostCore
/// One versioned schema change. Versions only grow; an applied migration is never edited.
public struct Migration: Sendable {
    public var version: Int
    public var name: String
    public var sql: String
    /// Statements run one at a time outside a transaction, for what PostgreSQL refuses inside one (`CREATE INDEX
    /// CONCURRENTLY`: an index built on a large table without stopping its writers). Each must be safe to run
    /// again after an interruption, since the version is recorded only after the last.
    public var concurrently: [String] = []
}

/// Applies the migrations a database lacks, in order, each in its own
/// transaction, under an advisory lock so that hosts starting together do not
/// race. Running it again applies nothing.
public struct Migrator {
    public static let all: [Migration] = [InitialSchema.migration, SendConfigChannel.migration,
                                          RecipientBulkLoading.migration, DeliveryProgress.migration,
                                          DeliveryEvents.migration, RateLimitOverrides.migration,
                                          SingleMessages.migration, IdempotencyKeys.migration,
                                          DashboardAccounts.migration, WebhookDeadLetterTable.migration,
                                          RecipientEventPositions.migration, OneIdempotencyMechanism.migration,
                                          RareStatusIndex.migration, BatchPause.migration,
                                          BatchRetries.migration, StoredTemplates.migration,
                                          StoredAttachments.migration, SendConfigFallbacks.migration,
                                          RecipientEventBatchCheck.migration, InPlaceRecipientUpdates.migration,
                                          RecipientEventKey.migration, ProviderMessageHashLookup.migration,
                                          RecipientPageRoom.migration]

    /// An arbitrary constant: the advisory lock id BatchSender's migrations hold.
    public static let lockId = 0x0BA7_C45E
    /// How long a migrator waits before it asks for the lock again.
    static let lockRetryMicroseconds: UInt32 = 200_000

    let migrations: [Migration]

    public init(migrations: [Migration] = Migrator.all) {
        self.migrations = migrations
    }

    /// The versions applied by this call (empty when the schema was current).
    @discardableResult
    public func migrate(_ connection: PostgresConnection) throws(PostgresError) -> [Int] {
        try connection.execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now())
            """)
        // The lock is asked for again and again rather than waited for in one statement: a statement waiting for it
        // holds a snapshot, which the holder's `CREATE INDEX CONCURRENTLY` waits for in turn, a deadlock PostgreSQL
        // ends by failing one of the two (a pod starting while another migrates).
        while try connection.query("SELECT pg_try_advisory_lock($1)", [String(Self.lockId)]).first?[0] != "t" {
            usleep(Self.lockRetryMicroseconds)
        }
        defer { _ = try? connection.query("SELECT pg_advisory_unlock($1)", [String(Self.lockId)]) }
        let applied = Set(try connection.query("SELECT version FROM schema_migrations").compactMap { $0[0].flatMap(Int.init) })
        var done: [Int] = []
        for migration in migrations.sorted(by: { $0.version < $1.version }) where !applied.contains(migration.version) {
            for statement in migration.concurrently { try connection.execute(statement) }
            try connection.transaction { () throws(PostgresError) in
                if !migration.sql.isEmpty { try connection.execute(migration.sql) }
                _ = try connection.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                                         [String(migration.version), migration.name])
            }
            done.append(migration.version)
        }
        return done
    }

    /// The highest applied version, 0 for none.
    public func currentVersion(_ connection: PostgresConnection) throws(PostgresError) -> Int {
        let rows = try connection.query("SELECT coalesce(max(version), 0) FROM schema_migrations")
        guard let value = rows.first?.first ?? nil else { return 0 }
        return Int(value) ?? 0
    }
}
