import Domain
import ProviderModel

/// The `batches` table as its users see it: made, filled, listed, sent and cancelled through the API, always
/// scoped to their owner. The pipeline's side is `BatchLedger`.
public enum Batches {
    /// The batch and its counters. The pipeline keeps the counters (synced from Redis every ~2 s), so
    /// reading a batch of a million recipients counts nothing.
    static let batchJSON = """
        jsonb_build_object('id', b.id, 'name', b.name, 'sendConfigId', b.send_config_id, 'status', b.status,
                           'payload', b.payload, 'templateId', b.template_id, 'templateVersion', b.template_version,
                           'scheduledAt', b.scheduled_at, 'attachments', \(Attachments.ofBatchJSON),
                           'counts', jsonb_build_object('recipients', b.recipient_count, 'duplicates', b.duplicate_count,
                                                        \(RecipientStatus.suppressed.sql), b.suppressed_count + b.late_suppressed_count,
                                                        \(RecipientStatus.pending.sql), \(pending), \(RecipientStatus.sent.sql), b.sent_count,
                                                        \(RecipientStatus.delivered.sql), b.delivered_count, \(RecipientStatus.bounced.sql), b.bounced_count,
                                                        \(RecipientStatus.complained.sql), b.complained_count, \(RecipientStatus.rejected.sql), b.rejected_count,
                                                        'undelivered', b.undelivered_count, \(RecipientStatus.failed.sql), b.failed_count,
                                                        \(RecipientStatus.cancelled.sql), b.cancelled_count),
                           'progress', jsonb_build_object(
                               'startedAt', b.started_at, 'lastOutcomeAt', b.last_outcome_at, 'finishedAt', b.completed_at,
                               'messagesPerSecond', CASE WHEN b.started_at IS NULL THEN 0 ELSE round(((b.sent_count + b.failed_count)
                                   / greatest(extract(epoch FROM coalesce(b.completed_at, now()) - b.started_at), 0.001))::numeric, 1) END,
                               'failureReason', b.failure_reason),
                           'createdAt', b.created_at, 'updatedAt', b.updated_at, 'queuedAt', b.queued_at,
                           'completedAt', b.completed_at, 'pausedAt', b.paused_at)
        """

    /// Recipients without an outcome yet.
    static let pending = "greatest(b.recipient_count - b.suppressed_count - b.late_suppressed_count - b.sent_count - b.failed_count - b.cancelled_count, 0)"

    /// The batch with its recipients counted per status, taken from the counters (statuses with none left out).
    static let detailJSON = """
        (\(batchJSON) || jsonb_build_object('recipientStatus', jsonb_strip_nulls(jsonb_build_object(
            \(RecipientStatus.pending.sql), nullif(\(pending), 0),
            \(RecipientStatus.sent.sql), nullif(b.sent_count - b.delivered_count - b.bounced_count - b.complained_count - b.rejected_count - b.undelivered_count, 0),
            \(RecipientStatus.delivered.sql), nullif(b.delivered_count, 0), \(RecipientStatus.bounced.sql), nullif(b.bounced_count, 0),
            \(RecipientStatus.complained.sql), nullif(b.complained_count, 0), \(RecipientStatus.rejected.sql), nullif(b.rejected_count, 0),
            \(RecipientStatus.failed.sql), nullif(b.failed_count + b.undelivered_count, 0),
            \(RecipientStatus.suppressed.sql), nullif(b.suppressed_count + b.late_suppressed_count, 0), \(RecipientStatus.cancelled.sql), nullif(b.cancelled_count, 0)))))
        """

    /// A new draft; its id.
    public static func insert(_ db: PostgresConnection, userID: String, name: String, sendConfigID: String, payloadJSON: String,
                              template: (id: String, version: Int)?, scheduledAt: String?) throws(PostgresError) -> String {
        try db.query("""
            INSERT INTO batches (user_id, send_config_id, name, payload, scheduled_at, template_id, template_version)
            VALUES ($1, $2, $3, $4::jsonb, $5::timestamptz, $6::uuid, $7::integer) RETURNING id
            """, [userID, sendConfigID, name, payloadJSON, scheduledAt, template?.id, template.map { String($0.version) }]).first?[0] ?? ""
    }

    /// The batch as JSON, with its recipients counted per status; nil when the user has none with this id.
    public static func detail(_ db: PostgresConnection, userID: String, id: String) throws(PostgresError) -> String? {
        try db.query("SELECT \(detailJSON)::text FROM batches b WHERE b.id = $1 AND b.user_id = $2", [id, userID]).first?[0] ?? nil
    }

    /// Whether the user has a batch (or a message) with this id.
    public static func exists(_ db: PostgresConnection, userID: String, id: String) throws(PostgresError) -> Bool {
        try !db.query("SELECT 1 FROM batches WHERE id = $1 AND user_id = $2", [id, userID]).isEmpty
    }

    /// Newest first; `cursor` is the last id of the previous page (one of the user's: check with `exists`).
    public static func page(_ db: PostgresConnection, userID: String, cursor: String?, status: BatchStatus?,
                            limit: Int) throws(PostgresError) -> (rows: [String], next: String?) {
        let rows = try db.query("""
            SELECT \(batchJSON)::text, b.id FROM batches b
            WHERE b.user_id = $1 AND b.kind = 'batch' AND ($2::text IS NULL OR b.status = $2)
              AND ($3::uuid IS NULL OR (b.created_at, b.id) < (SELECT created_at, id FROM batches WHERE id = $3))
            ORDER BY b.created_at DESC, b.id DESC LIMIT $4
            """, [userID, status?.rawValue, cursor, String(limit + 1)])
        let page = rows.prefix(limit)
        return (page.compactMap { $0[0] }, rows.count > limit ? page.last?[1] ?? nil : nil)
    }

    /// Where a batch stands, with its send-config.
    public struct State: Sendable {
        public var status: BatchStatus
        public var recipients: Int
        public var suppressed: Int
        public var channel: Channel
        public var configLive: Bool
    }

    /// A batch of the user's as it stands, nil when there is none. `locking` locks it for a change, and its
    /// send-config shared, so that the config cannot be deleted under a batch being queued.
    public static func state(_ db: PostgresConnection, userID: String, id: String, locking: Bool = false) throws(PostgresError) -> State? {
        try db.query("""
            SELECT b.status, b.recipient_count, b.suppressed_count, c.channel, c.deleted_at IS NULL
            FROM batches b JOIN send_configs c ON c.id = b.send_config_id
            WHERE b.id = $1 AND b.user_id = $2 \(locking ? "FOR UPDATE OF b FOR SHARE OF c" : "")
            """, [id, userID]).first.map {
            State(status: BatchStatus(rawValue: $0[0] ?? "") ?? .failed, recipients: Int($0[1] ?? "0") ?? 0, suppressed: Int($0[2] ?? "0") ?? 0,
                  channel: Channel(rawValue: $0[3] ?? "") ?? .email, configLive: $0[4] == "t")
        }
    }

    /// The batch's status, whoever owns it; nil when it is gone.
    public static func status(_ db: PostgresConnection, id: String) throws(PostgresError) -> BatchStatus? {
        try db.query("SELECT status FROM batches WHERE id = $1", [id]).first?[0].flatMap { BatchStatus(rawValue: $0) }
    }

    /// draft → queued (the caller checked it is a draft, under its lock).
    public static func markQueued(_ db: PostgresConnection, id: String, scheduledAt: String?) throws(PostgresError) {
        _ = try db.query("""
            UPDATE batches SET status = \(BatchStatus.queued.sql), queued_at = now(), updated_at = now(),
                   scheduled_at = coalesce($2::timestamptz, scheduled_at)
            WHERE id = $1
            """, [id, scheduledAt])
    }

    /// The assignments that end a batch's pause when the batch ends (completed, cancelled, failed): a change of its
    /// pause like any other, so the flag the senders read follows (a redrive then sends it unpaused).
    public static let pauseEndsSQL = "pause_version = pause_version + (paused_at IS NOT NULL)::integer, paused_at = NULL"

    /// → cancelled, counting the recipients the cancel stopped.
    public static func markCancelled(_ db: PostgresConnection, id: String, cancelledRecipients: Int) throws(PostgresError) {
        _ = try db.query("""
            UPDATE batches SET status = \(BatchStatus.cancelled.sql), completed_at = now(), updated_at = now(), \(pauseEndsSQL),
                   cancelled_count = cancelled_count + $2::integer
            WHERE id = $1
            """, [id, String(cancelledRecipients)])
    }

    /// Pauses or resumes a batch of `userID`'s (kind `batch`) that is queued or processing. Nil when there is no
    /// such batch; otherwise its status, its pause (`pause_version` counts every change) and whether this call
    /// changed it: a batch already in the state asked for, or in a status that allows neither (the caller answers
    /// 409), is left as it is. A batch resumed has progressed now: the quiet of its pause is not taken for stuck.
    /// The fallback reads the locked row (`found`), not the statement's snapshot, so a batch that finished while
    /// this waited for its lock is seen finished.
    public static func setPaused(_ db: PostgresConnection, userID: String, id: String,
                                 paused: Bool) throws(PostgresError) -> (status: BatchStatus, version: Int, paused: Bool, changed: Bool)? {
        try db.query("""
            WITH found AS (SELECT id, status, pause_version, paused_at IS NOT NULL AS paused FROM batches
                           WHERE id = $1 AND user_id = $2 AND kind = 'batch' FOR UPDATE),
            changed AS (
                UPDATE batches b SET paused_at = CASE WHEN $3::boolean THEN now() ELSE NULL END,
                       pause_version = b.pause_version + 1, updated_at = now(),
                       progressed_at = CASE WHEN $3::boolean THEN b.progressed_at ELSE now() END
                FROM found WHERE b.id = found.id AND found.status IN \(BatchStatus.sqlList(BatchStatus.pausable))
                  AND found.paused <> $3::boolean
                RETURNING b.status, b.pause_version, b.paused_at IS NOT NULL AS paused, true AS changed)
            SELECT status, pause_version, paused, changed FROM changed
            UNION ALL
            SELECT status, pause_version, paused, false FROM found WHERE NOT EXISTS (SELECT 1 FROM changed)
            """, [id, userID, paused ? "true" : "false"]).first.map {
            (BatchStatus(rawValue: $0[0] ?? "") ?? .failed, Int($0[1] ?? "0") ?? 0, $0[2] == "t", $0[3] == "t")
        }
    }

    /// How many waiting recipients of a batch a queue view counts at most (`inRetry`): the count is read from the
    /// rows, and a batch of millions retrying would otherwise cost a scan per view.
    public static let queueCountCap = 10_000

    /// The batches on their way (queued or processing) of `userID`, or of every user when nil, in the order they
    /// started: each as JSON with its pending recipients (from the counters), how many of them wait after a
    /// transient failure (`inRetry`, up to `queueCountCap`), and whether it is paused.
    public static func queue(_ db: PostgresConnection, userID: String?, limit: Int) throws(PostgresError) -> [(id: String, json: String)] {
        try db.query("""
            SELECT jsonb_build_object('id', b.id, 'userId', b.user_id, 'name', b.name, 'status', b.status, 'pausedAt', b.paused_at,
                                      'queuedAt', b.queued_at, 'scheduledAt', b.scheduled_at, 'recipients', b.recipient_count,
                                      \(RecipientStatus.pending.sql), \(pending),
                                      'inRetry', (SELECT count(*) FROM (SELECT 1 FROM recipients r WHERE r.batch_id = b.id
                                                  AND r.status IN \(RecipientStatus.sqlList(RecipientStatus.waiting)) AND r.attempts > 0
                                                  LIMIT \(queueCountCap)) AS retrying))::text, b.id
            FROM batches b
            WHERE ($1::uuid IS NULL OR b.user_id = $1::uuid) AND b.kind = 'batch' AND b.status IN \(BatchStatus.sqlList(BatchStatus.sending))
            ORDER BY coalesce(b.scheduled_at, b.queued_at), b.id LIMIT $2
            """, [userID, String(limit)]).map { ($0[1] ?? "", $0[0] ?? "{}") }
    }

    /// Single messages (`POST /api/messages`) of `userID` (every user when nil) not yet sent.
    public static func messagesWaiting(_ db: PostgresConnection, userID: String?) throws(PostgresError) -> Int {
        Int(try db.query("""
            SELECT count(*) FROM batches
            WHERE ($1::uuid IS NULL OR user_id = $1::uuid) AND kind = 'message' AND status IN \(BatchStatus.sqlList(BatchStatus.sending))
            """, [userID]).first?[0] ?? "0") ?? 0
    }

    /// Deletes a draft batch of `userID`'s with its recipients. Nil when there is no such batch; its status otherwise,
    /// and it is deleted only when that is `draft`.
    public static func deleteDraft(_ db: PostgresConnection, userID: String, id: String) throws(PostgresError) -> BatchStatus? {
        guard let row = try db.query("SELECT status FROM batches WHERE id = $1 AND user_id = $2 AND kind = 'batch' FOR UPDATE",
                                     [id, userID]).first else { return nil }
        let status = BatchStatus(rawValue: row[0] ?? "") ?? .failed
        if status == .draft { _ = try db.query("DELETE FROM batches WHERE id = $1", [id]) }
        return status
    }

    /// Starts a retry of a completed batch's failed recipients (`Recipients.retryable`): they wait again with fresh
    /// attempts, and the batch is processing again from its first row, under the next `retry_round`, not paused (a
    /// pause it finished under is over: `pause_version` moves on), with no job yet (the caller publishes it once
    /// their outcomes are forgotten in Redis; should it not, stuck-batch recovery starts it). Its send-config must
    /// still be there, held as queueing a batch holds it. Nil when there is no such batch of `userID`'s; otherwise its
    /// status, whether its send-config is live, the positions requeued, the round and its pause, nothing changed
    /// when it cannot be retried or nothing is to be.
    public static func startRetry(_ db: PostgresConnection, userID: String, id: String, all: Bool) throws(PostgresError)
        -> (status: BatchStatus, configLive: Bool, positions: [Int], round: Int, pauseVersion: Int)? {
        guard let row = try db.query("""
            SELECT b.status, b.retry_round, c.deleted_at IS NULL, b.pause_version
            FROM batches b JOIN send_configs c ON c.id = b.send_config_id
            WHERE b.id = $1 AND b.user_id = $2 AND b.kind = 'batch' FOR UPDATE OF b FOR SHARE OF c
            """, [id, userID]).first else { return nil }
        let status = BatchStatus(rawValue: row[0] ?? "") ?? .failed
        let round = Int(row[1] ?? "0") ?? 0, live = row[2] == "t", pauseVersion = Int(row[3] ?? "0") ?? 0
        guard status == .completed, live else { return (status, live, [], round, pauseVersion) }
        let positions = try Recipients.requeueFailed(db, batchID: id, positions: try Recipients.retryable(db, batchID: id, all: all))
        guard !positions.isEmpty else { return (status, live, [], round, pauseVersion) }
        _ = try db.query("""
            UPDATE batches SET status = \(BatchStatus.processing.sql), completed_at = NULL, cursor_position = 0, expanded_at = NULL,
                   retry_round = retry_round + 1, paused_at = NULL, pause_version = pause_version + 1,
                   progressed_at = now(), updated_at = now()
            WHERE id = $1
            """, [id])
        return (.processing, live, positions, round + 1, pauseVersion + 1)
    }

    /// Adds an upload's counts to a draft, locking it until the commit: concurrent chunks add up one after
    /// another. The batch's new total, or nil when it is no longer a draft.
    public static func addRecipients(_ db: PostgresConnection, id: String, accepted: Int, duplicates: Int,
                                     suppressed: Int) throws(PostgresError) -> Int? {
        try db.query("""
            UPDATE batches SET recipient_count = recipient_count + $2, duplicate_count = duplicate_count + $3,
                   suppressed_count = suppressed_count + $4, updated_at = now()
            WHERE id = $1 AND status = \(BatchStatus.draft.sql)
            RETURNING recipient_count
            """, [id, String(accepted), String(duplicates), String(suppressed)]).first?[0].flatMap { Int($0) }
    }

    /// Whether a batch of the user's that uses the send-config is on its way to a provider.
    public static func anySending(_ db: PostgresConnection, userID: String, sendConfigID: String) throws(PostgresError) -> Bool {
        try !db.query("""
            SELECT 1 FROM batches WHERE (send_config_id = $1 OR routed_via = $1) AND user_id = $2
                AND status IN \(BatchStatus.sqlList(BatchStatus.sending)) LIMIT 1
            """, [sendConfigID, userID]).isEmpty
    }
}
