import Domain

/// Messages: rows of `batches` of kind `message`, a batch of one recipient that is queued as it is made and
/// keeps the answer its request got (for a repeat with the same `Idempotency-Key`, see `IdempotencyKeyTable`).
public enum Messages {
    static let messageJSON = """
        jsonb_build_object('id', b.id, 'sendConfigId', b.send_config_id, 'to', r.address, 'status', r.status,
                           'templateId', b.template_id, 'templateVersion', b.template_version,
                           'attachments', \(Attachments.ofBatchJSON),
                           'providerMessageId', r.provider_message_id, 'attempts', r.attempts, 'lastError', r.last_error,
                           'createdAt', b.created_at, 'sentAt', r.sent_at, 'updatedAt', r.updated_at)
        """

    /// A new message with the id the caller chose (the one its idempotency key was claimed for), already
    /// processing (or completed, when its address is suppressed).
    public static func insert(_ db: PostgresConnection, id: String, userID: String, sendConfigID: String, payloadJSON: String,
                              template: (id: String, version: Int)?, listUnsubscribe: Bool, suppressed: Bool) throws(PostgresError) {
        let status: BatchStatus = suppressed ? .completed : .processing
        _ = try db.query("""
            INSERT INTO batches (id, user_id, send_config_id, name, payload, kind, status, recipient_count, suppressed_count,
                                 queued_at, started_at, expanded_at, progressed_at, completed_at, template_id, template_version, list_unsubscribe)
            VALUES ($1, $2, $3, 'message', $4::jsonb, 'message', $5, 1, $6::integer, now(), now(), now(), now(),
                    CASE WHEN $5 = \(BatchStatus.completed.sql) THEN now() END, $7::uuid, $8::integer, $9::boolean)
            """, [id, userID, sendConfigID, payloadJSON, status.rawValue, suppressed ? "1" : "0", template?.id, template.map { String($0.version) },
                  listUnsubscribe ? "true" : "false"])
    }

    /// Stores the message as it stands now as its first answer, and returns it.
    public static func recordAnswer(_ db: PostgresConnection, id: String) throws(PostgresError) -> String {
        try db.query("""
            UPDATE batches b SET first_answer = \(messageJSON) FROM recipients r
            WHERE b.id = $1 AND r.batch_id = b.id RETURNING b.first_answer::text
            """, [id]).first?[0] ?? "{}"
    }

    /// The user's message as JSON, or nil.
    public static func find(_ db: PostgresConnection, userID: String, id: String) throws(PostgresError) -> String? {
        try db.query("""
            SELECT \(messageJSON)::text FROM batches b JOIN recipients r ON r.batch_id = b.id
            WHERE b.id = $1 AND b.user_id = $2 AND b.kind = 'message'
            """, [id, userID]).first?[0] ?? nil
    }

    /// The answer the request that made the message got.
    public static func firstAnswer(_ db: PostgresConnection, id: String) throws(PostgresError) -> String? {
        try db.query("SELECT first_answer::text FROM batches WHERE id = $1 AND kind = 'message'", [id]).first?[0] ?? nil
    }
}
