/// The `web_sessions` table: the dashboard's sign-ins, each stored by the SHA-256 of its token only.
public enum WebSessions {
    /// A session row, joined with its user's address.
    public struct Row: Sendable, Equatable {
        public var userID: String
        public var email: String
        public var csrfToken: String
    }

    /// Stores a new session; expired sessions of everyone are swept as it goes.
    public static func create(_ db: PostgresConnection, tokenHashHex: String, userID: String, csrfToken: String,
                              lifetimeHours: Int) throws(PostgresError) {
        _ = try db.query("DELETE FROM web_sessions WHERE expires_at < now()")
        _ = try db.query("""
            INSERT INTO web_sessions (token_hash, user_id, csrf_token, expires_at)
            VALUES ($1::bytea, $2, $3, now() + make_interval(hours => $4::integer))
            """, ["\\x" + tokenHashHex, userID, csrfToken, String(lifetimeHours)])
    }

    /// The live session with this token hash, or nil.
    public static func find(_ db: PostgresConnection, tokenHashHex: String) throws(PostgresError) -> Row? {
        guard let row = try db.query("""
            SELECT s.user_id, u.email, s.csrf_token FROM web_sessions s JOIN users u ON u.id = s.user_id
            WHERE s.token_hash = $1::bytea AND s.expires_at > now()
            """, ["\\x" + tokenHashHex]).first else { return nil }
        return Row(userID: row[0] ?? "", email: row[1] ?? "", csrfToken: row[2] ?? "")
    }

    public static func delete(_ db: PostgresConnection, tokenHashHex: String) throws(PostgresError) {
        _ = try db.query("DELETE FROM web_sessions WHERE token_hash = $1::bytea", ["\\x" + tokenHashHex])
    }

    /// Ends every session of the user's (a changed password signs out whoever knew the old one).
    public static func deleteAll(_ db: PostgresConnection, userID: String) throws(PostgresError) {
        _ = try db.query("DELETE FROM web_sessions WHERE user_id = $1", [userID])
    }
}
