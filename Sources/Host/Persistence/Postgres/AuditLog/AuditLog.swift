/// The `audit_log` table: who changed what, one row per change a user makes through the API or the CLI, or
/// an operator through the admin API (no user).
public enum AuditLog {
    public static func record(_ db: PostgresConnection, userID: String?, action: String, subject: String, id: String?,
                              detail: String = "{}") throws(PostgresError) {
        _ = try db.query("""
            INSERT INTO audit_log (user_id, action, subject_type, subject_id, detail) VALUES ($1, $2, $3, $4, $5::jsonb)
            """, [userID, action, subject, id, detail])
    }
}
