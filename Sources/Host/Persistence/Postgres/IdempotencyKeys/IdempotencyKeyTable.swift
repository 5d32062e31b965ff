/// The `idempotency_keys` table: a key a user sent with a request, the request it names (route and
/// fingerprint) and what that request made. A key older than 24 hours may name a new request.
public enum IdempotencyKeyTable {
    /// A stored key's request.
    public struct Row: Sendable, Equatable {
        public var route: String
        public var fingerprint: String
        public var resourceID: String
    }

    /// Takes the key for this request in the caller's open transaction: true when it is this request's (new,
    /// or older than a day). A second request with the key waits here for the first one's transaction.
    public static func claim(_ db: PostgresConnection, userID: String, key: String, route: String, fingerprint: String,
                             resourceID: String) throws(PostgresError) -> Bool {
        try !db.query("""
            INSERT INTO idempotency_keys (user_id, key, route, fingerprint, resource_id) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (user_id, key) DO UPDATE SET route = EXCLUDED.route, fingerprint = EXCLUDED.fingerprint,
                   resource_id = EXCLUDED.resource_id, created_at = now()
            WHERE idempotency_keys.created_at < now() - interval '24 hours'
            RETURNING 1
            """, [userID, key, route, fingerprint, resourceID]).isEmpty
    }

    public static func find(_ db: PostgresConnection, userID: String, key: String) throws(PostgresError) -> Row? {
        try db.query("SELECT route, fingerprint, resource_id FROM idempotency_keys WHERE user_id = $1 AND key = $2",
                     [userID, key]).first.map { Row(route: $0[0] ?? "", fingerprint: $0[1] ?? "", resourceID: $0[2] ?? "") }
    }

    /// Forgets the keys that made a resource now deleted: a request repeated under one of them is a new one.
    public static func forget(_ db: PostgresConnection, userID: String, resourceID: String) throws(PostgresError) {
        _ = try db.query("DELETE FROM idempotency_keys WHERE user_id = $1 AND resource_id = $2", [userID, resourceID])
    }
}
