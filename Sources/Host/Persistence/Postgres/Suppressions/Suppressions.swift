/// The `suppressions` table: addresses a user never sends to again.
public enum Suppressions {
    static let suppressionJSON = "jsonb_build_object('address', address, 'reason', reason, 'source', source, 'createdAt', created_at)"

    /// Adds (or re-reasons) a suppression; its JSON, and whether it is new.
    public static func upsert(_ db: PostgresConnection, userID: String, address: String, reason: String,
                              source: String) throws(PostgresError) -> (json: String, created: Bool) {
        let rows = try db.query("""
            INSERT INTO suppressions (user_id, address, reason, source) VALUES ($1, $2, $3, $4)
            ON CONFLICT (user_id, address) DO UPDATE SET reason = EXCLUDED.reason
            RETURNING \(suppressionJSON)::text, (xmax = 0)
            """, [userID, address, reason, source])
        return (rows.first?[0] ?? "{}", rows.first?[1] == "t")
    }

    /// Adds a suppression unless the address is suppressed already (its reason and source stay as they were):
    /// whether it is new.
    public static func insertIfAbsent(_ db: PostgresConnection, userID: String, address: String, reason: String,
                                      source: String) throws(PostgresError) -> Bool {
        try !db.query("""
            INSERT INTO suppressions (user_id, address, reason, source) VALUES ($1, $2, $3, $4)
            ON CONFLICT (user_id, address) DO NOTHING RETURNING 1
            """, [userID, address, reason, source]).isEmpty
    }

    /// A page in address order after `cursor` (an address), and the next cursor when there is more.
    public static func page(_ db: PostgresConnection, userID: String, after cursor: String?,
                            limit: Int) throws(PostgresError) -> (rows: [String], next: String?) {
        let rows = try db.query("""
            SELECT \(suppressionJSON)::text, address FROM suppressions
            WHERE user_id = $1 AND ($2::text IS NULL OR address > $2) ORDER BY address LIMIT $3
            """, [userID, cursor, String(limit + 1)])
        let page = rows.prefix(limit)
        return (page.compactMap { $0[0] }, rows.count > limit ? page.last?[1] ?? nil : nil)
    }

    /// Whether a suppression was there to remove.
    public static func delete(_ db: PostgresConnection, userID: String, address: String) throws(PostgresError) -> Bool {
        try !db.query("DELETE FROM suppressions WHERE user_id = $1 AND address = $2 RETURNING address", [userID, address]).isEmpty
    }

    public static func contains(_ db: PostgresConnection, userID: String, address: String) throws(PostgresError) -> Bool {
        try !db.query("SELECT 1 FROM suppressions WHERE user_id = $1 AND address = $2", [userID, address]).isEmpty
    }

    /// Adds suppressions a provider reported (an existing one stays as it was): how many are new.
    public static func insertMany(_ db: PostgresConnection,
                                  _ rows: [(userID: String, address: String, reason: String, source: String)]) throws(PostgresError) -> Int {
        try db.query("""
            INSERT INTO suppressions (user_id, address, reason, source)
            SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) ON CONFLICT DO NOTHING RETURNING 1
            """, [PostgresArray.literal(rows.map { Optional($0.userID) }), PostgresArray.literal(rows.map { Optional($0.address) }),
                  PostgresArray.literal(rows.map { Optional($0.reason) }), PostgresArray.literal(rows.map { Optional($0.source) })]).count
    }
}
