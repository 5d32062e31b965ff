/// The `users` table: one row per email address; a password hash once the user set one for the dashboard.
public enum Users {
    /// The user with `email`, created if new; returns its id.
    public static func ensure(_ db: PostgresConnection, email: String) throws(PostgresError) -> String {
        let rows = try db.query("""
            INSERT INTO users (email) VALUES ($1)
            ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email RETURNING id
            """, [email])
        return rows.first?[0] ?? ""
    }

    /// A new user with a password: nil when the address is taken (by a user with or without a password).
    public static func register(_ db: PostgresConnection, email: String, passwordHash: String) throws(PostgresError) -> String? {
        try db.query("""
            INSERT INTO users (email, password_hash) VALUES ($1, $2) ON CONFLICT (email) DO NOTHING RETURNING id
            """, [email, passwordHash]).first?[0] ?? nil
    }

    /// The user's id and password hash (nil when none was set), or nil for an unknown address.
    public static func credentials(_ db: PostgresConnection, email: String) throws(PostgresError) -> (userID: String, hash: String?)? {
        guard let row = try db.query("SELECT id, password_hash FROM users WHERE email = $1", [email]).first, let id = row[0] else { return nil }
        return (id, row[1])
    }

    public static func setPassword(_ db: PostgresConnection, userID: String, passwordHash: String) throws(PostgresError) {
        _ = try db.query("UPDATE users SET password_hash = $2 WHERE id = $1", [userID, passwordHash])
    }

    public static func exists(_ db: PostgresConnection, id: String) throws(PostgresError) -> Bool {
        try !db.query("SELECT 1 FROM users WHERE id = $1", [id]).isEmpty
    }
}
