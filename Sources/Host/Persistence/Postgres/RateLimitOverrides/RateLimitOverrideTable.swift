/// The `rate_limit_overrides` table: the operators' limits, kept so that they survive a Redis that lost its data.
public enum RateLimitOverrideTable {
    /// Every override: field → messages per second.
    public static func all(_ db: PostgresConnection) throws(PostgresError) -> [String: Int] {
        var overrides: [String: Int] = [:]
        for row in try db.query("SELECT field, per_second::text FROM rate_limit_overrides") {
            if let field = row[0], let value = row[1].flatMap({ Int($0) }) { overrides[field] = value }
        }
        return overrides
    }

    public static func set(_ db: PostgresConnection, field: String, perSecond: Int) throws(PostgresError) {
        _ = try db.query("""
            INSERT INTO rate_limit_overrides (field, per_second) VALUES ($1, $2::integer)
            ON CONFLICT (field) DO UPDATE SET per_second = EXCLUDED.per_second, updated_at = now()
            """, [field, String(perSecond)])
    }

    public static func delete(_ db: PostgresConnection, field: String) throws(PostgresError) {
        _ = try db.query("DELETE FROM rate_limit_overrides WHERE field = $1", [field])
    }
}
