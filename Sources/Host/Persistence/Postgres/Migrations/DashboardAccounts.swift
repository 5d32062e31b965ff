import Domain
import HostCore
/// Version 9: the web dashboard's accounts. A user may have a password (argon2id, libsodium's encoded
/// string, so its parameters travel with it); a signed-in browser holds a session whose token is stored
/// only as its SHA-256, with the CSRF token its forms must carry.
enum DashboardAccounts {
    static let migration = Migration(version: 9, name: "dashboard accounts", sql: """
        ALTER TABLE users ADD COLUMN password_hash text;
        CREATE TABLE web_sessions (
            token_hash bytea PRIMARY KEY,
            user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            csrf_token text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL);
        CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);
        """)
}
