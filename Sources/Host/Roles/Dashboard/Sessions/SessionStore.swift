import Analytics
import Domain
import HostCore
import Messaging
import Persistence
import ProviderCrypto

/// Sessions in PostgreSQL. The browser holds a random token; the table holds only its SHA-256, so a copy of
/// the database signs no one in. A session lasts `lifetimeHours` from sign-in; signing out deletes it.
enum SessionStore {
    static let lifetimeHours = 12

    /// A fresh random token, hex: 32 bytes for a session, 16 for a CSRF token.
    static func token(bytes: Int = 32) -> String {
        Encoding.hex(SecureRandom.bytes(bytes) ?? [])
    }

    static func hashHex(_ token: String) -> String { Encoding.hex(Digest.sha256(Array(token.utf8))) }

    /// A new session for `userID`: the token for the cookie. Expired sessions of everyone are swept as it goes.
    static func create(_ db: PostgresConnection, userID: String) throws -> String {
        let token = token()
        _ = try db.query("DELETE FROM web_sessions WHERE expires_at < now()")
        _ = try db.query("""
            INSERT INTO web_sessions (token_hash, user_id, csrf_token, expires_at)
            VALUES ($1::bytea, $2, $3, now() + make_interval(hours => $4::integer))
            """, ["\\x" + hashHex(token), userID, Self.token(bytes: 16), String(lifetimeHours)])
        return token
    }

    /// The live session the token names, or nil.
    static func find(_ db: PostgresConnection, token: String) throws -> Session? {
        guard token.count == 64, token.allSatisfy(\.isHexDigit) else { return nil }
        guard let row = try db.query("""
            SELECT s.user_id, u.email, s.csrf_token FROM web_sessions s JOIN users u ON u.id = s.user_id
            WHERE s.token_hash = $1::bytea AND s.expires_at > now()
            """, ["\\x" + hashHex(token)]).first else { return nil }
        return Session(userID: row[0] ?? "", email: row[1] ?? "", csrfToken: row[2] ?? "")
    }

    static func delete(_ db: PostgresConnection, token: String) throws {
        _ = try db.query("DELETE FROM web_sessions WHERE token_hash = $1::bytea", ["\\x" + hashHex(token)])
    }
}
