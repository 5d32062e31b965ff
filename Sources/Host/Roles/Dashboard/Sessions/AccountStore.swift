import Domain
import HostCore
import Messaging
import Persistence
import SenderAPI

/// Users' passwords. Hashing is the caller's (it is slow on purpose and runs off the cooperative pool);
/// this stores and reads the encoded hashes.
public enum AccountStore {
    /// A new user with a password: nil when the address is taken (by a user with or without a password).
    static func register(_ db: PostgresConnection, email: String, passwordHash: String) throws -> String? {
        try db.query("""
            INSERT INTO users (email, password_hash) VALUES ($1, $2) ON CONFLICT (email) DO NOTHING RETURNING id
            """, [email, passwordHash]).first?[0] ?? nil
    }

    /// The user's id and password hash (nil when none was set), or nil for an unknown address.
    static func credentials(_ db: PostgresConnection, email: String) throws -> (userID: String, hash: String?)? {
        guard let row = try db.query("SELECT id, password_hash FROM users WHERE email = $1", [email]).first, let id = row[0] else { return nil }
        return (id, row[1])
    }

    /// `batchsender apikey password`: sets the password of the user with `email`, made if new. Every
    /// session of theirs ends, so a changed password signs out whoever knew the old one.
    public static func setPassword(_ db: PostgresConnection, email: String, passwordHash: String) throws {
        let userID = try APIKeyStore.ensureUser(db, email: email)
        _ = try db.query("UPDATE users SET password_hash = $2 WHERE id = $1", [userID, passwordHash])
        _ = try db.query("DELETE FROM web_sessions WHERE user_id = $1", [userID])
    }
}
