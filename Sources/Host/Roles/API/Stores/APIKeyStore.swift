import Analytics
import Domain
import HostCore
import Messaging
import Persistence

/// Users and their API keys. Synchronous SQL on one connection, so that the
/// API's routes and the `batchsender apikey` command share it.
public enum APIKeyStore {
    static let keyJSON = """
        jsonb_build_object('id', id, 'name', name, 'prefix', prefix, 'createdAt', created_at,
                           'lastUsedAt', last_used_at, 'revokedAt', revoked_at)
        """

    /// The user with `email`, created if new; returns its id.
    public static func ensureUser(_ db: PostgresConnection, email: String) throws -> String {
        let rows = try db.query("""
            INSERT INTO users (email) VALUES ($1)
            ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email RETURNING id
            """, [email])
        return rows[0][0]!
    }

    /// A new key for `userID`: the stored row as JSON plus the key itself, which is shown this once.
    public static func create(_ db: PostgresConnection, userID: String, name: String) throws -> (json: String, key: String) {
        let minted = try APIKeyToken.mint()
        let rows = try db.query("""
            INSERT INTO api_keys (user_id, name, prefix, key_hash) VALUES ($1, $2, $3, $4::bytea)
            RETURNING (\(keyJSON) || jsonb_build_object('key', $5::text))::text
            """, [userID, name, minted.prefix, minted.hashHex, minted.key])
        try AuditLog.record(db, userID: userID, action: "api_key.created", subject: "api_key", id: nil)
        return (rows[0][0]!, minted.key)
    }

    /// `batchsender apikey create`: the user (made if new) and a new key of theirs, in one transaction.
    public static func createForUser(_ db: PostgresConnection, email: String, name: String) throws -> String {
        try db.execute("BEGIN")
        do {
            let created = try create(db, userID: try ensureUser(db, email: email), name: name)
            try db.execute("COMMIT")
            return created.json
        } catch {
            try? db.execute("ROLLBACK")
            throw error
        }
    }

    static func list(_ db: PostgresConnection, userID: String) throws -> [String] {
        try db.query("SELECT \(keyJSON)::text FROM api_keys WHERE user_id = $1 ORDER BY created_at, id", [userID]).compactMap { $0[0] }
    }

    /// Whether a live key of `userID`'s was revoked.
    static func revoke(_ db: PostgresConnection, userID: String, keyID: String) throws -> Bool {
        let rows = try db.query("""
            UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING id
            """, [keyID, userID])
        if !rows.isEmpty { try AuditLog.record(db, userID: userID, action: "api_key.revoked", subject: "api_key", id: keyID) }
        return !rows.isEmpty
    }

    /// The owner of a live key with this hash. `last_used_at` is written at most every 30 s per key,
    /// so that a busy key does not turn every request into a write.
    static func authenticate(_ db: PostgresConnection, hashHex: String) throws -> Identity? {
        let rows = try db.query("""
            WITH k AS (SELECT id, user_id, last_used_at FROM api_keys WHERE key_hash = $1::bytea AND revoked_at IS NULL),
                 touched AS (UPDATE api_keys SET last_used_at = now() FROM k
                             WHERE api_keys.id = k.id AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '30 seconds'))
            SELECT id, user_id FROM k
            """, [hashHex])
        guard let row = rows.first, let keyID = row[0], let userID = row[1] else { return nil }
        return Identity(userID: userID, keyID: keyID)
    }
}
