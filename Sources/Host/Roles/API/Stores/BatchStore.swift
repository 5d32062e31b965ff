import Analytics
import Domain
import HostCore
import Messaging
import Persistence
import ProviderInstances
import ProviderModel

/// Batches in PostgreSQL, always scoped to their owner.
enum BatchStore {
    /// The batch and its counters. The pipeline keeps the counters (synced from Redis every ~2 s), so
    /// reading a batch of a million recipients counts nothing.
    static let batchJSON = """
        jsonb_build_object('id', b.id, 'name', b.name, 'sendConfigId', b.send_config_id, 'status', b.status,
                           'payload', b.payload, 'scheduledAt', b.scheduled_at,
                           'counts', jsonb_build_object('recipients', b.recipient_count, 'duplicates', b.duplicate_count,
                                                        'suppressed', b.suppressed_count + b.late_suppressed_count,
                                                        'pending', \(pending), 'sent', b.sent_count,
                                                        'delivered', b.delivered_count, 'bounced', b.bounced_count,
                                                        'complained', b.complained_count, 'rejected', b.rejected_count,
                                                        'undelivered', b.undelivered_count, 'failed', b.failed_count,
                                                        'cancelled', b.cancelled_count),
                           'progress', jsonb_build_object(
                               'startedAt', b.started_at, 'lastOutcomeAt', b.last_outcome_at, 'finishedAt', b.completed_at,
                               'messagesPerSecond', CASE WHEN b.started_at IS NULL THEN 0 ELSE round(((b.sent_count + b.failed_count)
                                   / greatest(extract(epoch FROM coalesce(b.completed_at, now()) - b.started_at), 0.001))::numeric, 1) END,
                               'failureReason', b.failure_reason),
                           'createdAt', b.created_at, 'updatedAt', b.updated_at, 'queuedAt', b.queued_at,
                           'completedAt', b.completed_at)
        """

    /// Recipients without an outcome yet.
    static let pending = "greatest(b.recipient_count - b.suppressed_count - b.late_suppressed_count - b.sent_count - b.failed_count - b.cancelled_count, 0)"

    /// The batch with its recipients counted per status, taken from the counters (statuses with none left out).
    static let detailJSON = """
        (\(batchJSON) || jsonb_build_object('recipientStatus', jsonb_strip_nulls(jsonb_build_object(
            'pending', nullif(\(pending), 0),
            'sent', nullif(b.sent_count - b.delivered_count - b.bounced_count - b.complained_count - b.rejected_count - b.undelivered_count, 0),
            'delivered', nullif(b.delivered_count, 0), 'bounced', nullif(b.bounced_count, 0),
            'complained', nullif(b.complained_count, 0), 'rejected', nullif(b.rejected_count, 0),
            'failed', nullif(b.failed_count + b.undelivered_count, 0),
            'suppressed', nullif(b.suppressed_count + b.late_suppressed_count, 0), 'cancelled', nullif(b.cancelled_count, 0)))))
        """

    /// The user's live send-config: its channel and defaults, or nil.
    static func sendConfig(_ db: PostgresConnection, userID: String, id: String) throws -> (channel: Channel, defaults: [String: String])? {
        guard let row = try db.query("""
            SELECT channel, defaults::text FROM send_configs WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL
            """, [id, userID]).first else { return nil }
        let defaults: [String: String]
        if case .object(let object)? = JSONValue.parse(Array((row[1] ?? "{}").utf8)) { defaults = object.compactMapValues(\.stringValue) }
        else { defaults = [:] }
        return (Channel(rawValue: row[0] ?? "") ?? .email, defaults)
    }

    static func insert(_ db: PostgresConnection, userID: String, name: String, sendConfigID: String, payload: JSONValue,
                       scheduledAt: String?) throws -> String {
        let rows = try db.query("""
            INSERT INTO batches (user_id, send_config_id, name, payload, scheduled_at)
            VALUES ($1, $2, $3, $4::jsonb, $5::timestamptz) RETURNING id
            """, [userID, sendConfigID, name, payload.compactText, scheduledAt])
        try AuditLog.record(db, userID: userID, action: "batch.created", subject: "batch", id: rows[0][0])
        return rows[0][0]!
    }

    static func detail(_ db: PostgresConnection, userID: String, id: String) throws -> String? {
        try db.query("SELECT \(detailJSON)::text FROM batches b WHERE b.id = $1 AND b.user_id = $2", [id, userID]).first?[0] ?? nil
    }

    /// Newest first; `cursor` is the last id of the previous page.
    static func page(_ db: PostgresConnection, userID: String, cursor: String?, status: String?, limit: Int) throws -> (rows: [String], next: String?) {
        if let cursor, try db.query("SELECT 1 FROM batches WHERE id = $1 AND user_id = $2", [cursor, userID]).isEmpty {
            throw APIError.invalid("query.cursor", "is not a cursor this listing gave")
        }
        let rows = try db.query("""
            SELECT \(batchJSON)::text, b.id FROM batches b
            WHERE b.user_id = $1 AND b.kind = 'batch' AND ($2::text IS NULL OR b.status = $2)
              AND ($3::uuid IS NULL OR (b.created_at, b.id) < (SELECT created_at, id FROM batches WHERE id = $3))
            ORDER BY b.created_at DESC, b.id DESC LIMIT $4
            """, [userID, status, cursor, String(limit + 1)])
        let page = rows.prefix(limit)
        return (page.compactMap { $0[0] }, rows.count > limit ? page.last?[1] : nil)
    }

    typealias State = (status: String, recipients: Int, suppressed: Int, channel: Channel, configLive: Bool)

    /// Locks a batch of the user's for a change; 404 when there is none.
    static func lock(_ db: PostgresConnection, userID: String, id: String) throws -> State {
        try state(db, userID: userID, id: id, locking: true)
    }

    /// A batch of the user's as it stands, without a lock; 404 when there is none.
    static func state(_ db: PostgresConnection, userID: String, id: String, locking: Bool = false) throws -> State {
        guard let row = try db.query("""
            SELECT b.status, b.recipient_count, b.suppressed_count, c.channel, c.deleted_at IS NULL
            FROM batches b JOIN send_configs c ON c.id = b.send_config_id
            WHERE b.id = $1 AND b.user_id = $2 \(locking ? "FOR UPDATE OF b FOR SHARE OF c" : "")
            """, [id, userID]).first else {
            throw APIError.notFound("batch \(id)", field: "path.id")
        }
        return (row[0] ?? "", Int(row[1] ?? "0") ?? 0, Int(row[2] ?? "0") ?? 0, Channel(rawValue: row[3] ?? "") ?? .email, row[4] == "t")
    }

    /// draft → queued, for now or for `scheduledAt`.
    static func queue(_ db: PostgresConnection, userID: String, id: String, scheduledAt: String?) throws {
        let batch = try lock(db, userID: userID, id: id)
        guard batch.status == "draft" else { throw APIError.conflict("the batch is \(batch.status); only a draft can be sent", field: "path.id") }
        guard batch.configLive else { throw APIError.conflict("the batch's send-config was deleted; create a batch with a live one", field: "sendConfigId") }
        guard batch.recipients - batch.suppressed > 0 else {
            throw APIError.invalid("recipients", "the batch has no recipients to send to; upload some first")
        }
        _ = try db.query("""
            UPDATE batches SET status = 'queued', queued_at = now(), updated_at = now(),
                   scheduled_at = coalesce($2::timestamptz, scheduled_at)
            WHERE id = $1
            """, [id, scheduledAt])
        try AuditLog.record(db, userID: userID, action: "batch.queued", subject: "batch", id: id)
    }

    /// Stops a batch that has not finished; recipients not yet sent are cancelled with it.
    static func cancel(_ db: PostgresConnection, userID: String, id: String) throws {
        let batch = try lock(db, userID: userID, id: id)
        guard ["draft", "queued", "processing"].contains(batch.status) else {
            throw APIError.conflict("the batch is \(batch.status) already and cannot be cancelled", field: "path.id")
        }
        // Recipients whose send is in flight now become sent or failed when it returns (the pipeline's write
        // takes them off cancelled_count); nothing not yet handed to a provider is sent after this.
        _ = try db.query("""
            WITH c AS (UPDATE recipients SET status = 'cancelled', updated_at = now()
                       WHERE batch_id = $1 AND status IN ('pending', 'queued', 'deferred') RETURNING 1)
            UPDATE batches SET status = 'cancelled', completed_at = now(), updated_at = now(),
                   cancelled_count = cancelled_count + (SELECT count(*) FROM c)
            WHERE id = $1
            """, [id])
        try AuditLog.record(db, userID: userID, action: "batch.cancelled", subject: "batch", id: id)
    }
}
