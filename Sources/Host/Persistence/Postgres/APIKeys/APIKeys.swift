/// The `api_keys` table: only each key's SHA-256 and its visible prefix are stored.
public enum APIKeys {
    static let keyJSON = """
        jsonb_build_object('id', id, 'name', name, 'prefix', prefix, 'createdAt', created_at,
                           'lastUsedAt', last_used_at, 'revokedAt', revoked_at)
        """

    /// Stores a new key of `userID`'s; returns the row as JSON with `key` added (shown this once).
    public static func insert(_ db: PostgresConnection, userID: String, name: String, prefix: String, hashHex: String,
                              key: String) throws(PostgresError) -> String {
        try db.query("""
            INSERT INTO api_keys (user_id, name, prefix, key_hash) VALUES ($1, $2, $3, $4::bytea)
            RETURNING (\(keyJSON) || jsonb_build_object('key', $5::text))::text
            """, [userID, name, prefix, hashHex, key]).first?[0] ?? "{}"
    }

    /// The user's keys as JSON, oldest first.
    public static func list(_ db: PostgresConnection, userID: String) throws(PostgresError) -> [String] {
        try db.query("SELECT \(keyJSON)::text FROM api_keys WHERE user_id = $1 ORDER BY created_at, id", [userID]).compactMap { $0[0] }
    }

    /// Whether a live key of `userID`'s was revoked.
    public static func revoke(_ db: PostgresConnection, userID: String, keyID: String) throws(PostgresError) -> Bool {
        try !db.query("""
            UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING id
            """, [keyID, userID]).isEmpty
    }

    /// The key id and owner of a live key with this hash. `last_used_at` is written at most every 30 s per key,
    /// so that a busy key does not turn every request into a write.
    public static func authenticate(_ db: PostgresConnection, hashHex: String) throws(PostgresError) -> (keyID: String, userID: String)? {
        let rows = try db.query("""
            WITH k AS (SELECT id, user_id, last_used_at FROM api_keys WHERE key_hash = $1::bytea AND revoked_at IS NULL),
                 touched AS (UPDATE api_keys SET last_used_at = now() FROM k
                             WHERE api_keys.id = k.id AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '30 seconds'))
            SELECT id, user_id FROM k
            """, [hashHex])
        guard let row = rows.first, let keyID = row[0], let userID = row[1] else { return nil }
        return (keyID, userID)
    }
}
