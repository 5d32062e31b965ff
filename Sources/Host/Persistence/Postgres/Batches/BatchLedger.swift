import Domain
import ProviderModel
import HostCore

/// The pipeline's reads and writes of batches and recipients in PostgreSQL,
/// the truth users read. Recipient rows are written in bulk (one statement
/// per batch per round, thousands of rows), never one UPDATE per message.
public struct BatchLedger: Sendable {
    let database: ConnectionPool<PostgresConnection>

    public init(database: ConnectionPool<PostgresConnection>) { self.database = database }

    // MARK: Discoverer

    /// Queued batches whose time has come and are not paused (one paused before it started starts when resumed),
    /// oldest first, with how often their failed recipients were retried.
    public func dueBatches(limit: Int) async throws -> [(id: String, userID: String, retry: Int)] {
        try await database.withConnection { db in
            try db.query("""
                SELECT id, user_id, retry_round FROM batches
                WHERE status = \(BatchStatus.queued.sql) AND (scheduled_at IS NULL OR scheduled_at <= now()) AND paused_at IS NULL
                ORDER BY coalesce(scheduled_at, queued_at), id LIMIT $1
                """, [String(limit)])
        }.map { ($0[0] ?? "", $0[1] ?? "", Int($0[2] ?? "0") ?? 0) }
    }

    /// queued → processing, for those still queued (a cancel in between wins).
    public func markProcessing(_ ids: [String]) async throws -> [String] {
        guard !ids.isEmpty else { return [] }
        return try await database.withConnection { db in
            try db.query("""
                UPDATE batches SET status = \(BatchStatus.processing.sql), started_at = coalesce(started_at, now()), progressed_at = now(), updated_at = now()
                WHERE id = ANY($1::uuid[]) AND status = \(BatchStatus.queued.sql) AND paused_at IS NULL RETURNING id
                """, [PostgresArray.literal(ids)])
        }.compactMap { $0[0] }
    }

    // MARK: Processor

    /// What the processor needs to expand a batch.
    public struct Plan: Sendable {
        public var id, userID, status: String
        public var payloadJSON: String
        public var cursor: Int
        public var expanded: Bool
        public var recipientCount: Int
        /// How often its failed recipients were retried: a retry's chunks are named apart from the first send's.
        public var retryRound: Int = 0
        /// Whether its emails carry one-click unsubscribe headers: every batch's do; a message's unless its
        /// request opted out, which must hold however it is sent (the priority queue, or recovery through here).
        public var listUnsubscribe = true
        /// How many files its messages carry, and their bytes together (`Attachments`).
        public var attachmentCount = 0
        public var attachmentBytes = 0
        /// The batch's send-config, as every reader of that table gets it.
        public var config: SendConfigRow

        public var sendConfigID: String { config.id }
        public var provider: String { config.provider }
        public var channel: String { config.channel.rawValue }
        public var configDeleted: Bool { config.deleted }
        public var sealed: String { config.sealed }
        public var nonce: String { config.nonce }
        public var defaultsJSON: String { config.defaultsJSON }
        /// `status` in the vocabulary's terms.
        public var batchStatus: BatchStatus? { BatchStatus(rawValue: status) }
    }

    /// The ids of the files a batch's messages carry, in order.
    public func attachmentIDs(batchID: String) async throws -> [String] {
        try await database.withConnection { db in try Attachments.ids(db, batchID: batchID) }
    }

    /// Files by id, bytes and all.
    public func attachmentContents(ids: [String]) async throws -> [String: Attachment] {
        try await database.withConnection { db in try Attachments.contents(db, ids: ids) }
    }

    public func plan(batchID: String) async throws -> Plan? {
        try await database.withConnection { db in
            try db.query("""
                SELECT b.id, b.user_id, b.status, b.payload::text, b.cursor_position, b.expanded_at IS NOT NULL, b.recipient_count,
                       b.retry_round, b.list_unsubscribe, b.attachment_count, b.attachment_bytes, \(SendConfigs.columns)
                FROM batches b JOIN send_configs c ON c.id = b.send_config_id WHERE b.id = $1
                """, [batchID]).first
        }.map { r in
            Plan(id: r[0] ?? "", userID: r[1] ?? "", status: r[2] ?? "", payloadJSON: r[3] ?? "{}", cursor: Int(r[4] ?? "0") ?? 0,
                 expanded: r[5] == "t", recipientCount: Int(r[6] ?? "0") ?? 0, retryRound: Int(r[7] ?? "0") ?? 0,
                 listUnsubscribe: r[8] != "f", attachmentCount: Int(r[9] ?? "0") ?? 0, attachmentBytes: Int(r[10] ?? "0") ?? 0,
                 config: SendConfigs.row(Array(r[11...])))
        }
    }

    /// Refreshes the planner's statistics of the recipients. A batch uploaded since the last ANALYZE looks
    /// like one row to the planner, which then finds each chunk's rows by scanning the whole batch (a
    /// write costs hundreds of milliseconds instead of one); after it, by batch and position.
    public func analyzeRecipients() async throws {
        try await database.withConnection { db in try Recipients.analyze(db) }
    }

    /// One recipient of a page, with whether the user suppressed its address since the upload.
    public typealias PageRow = Recipients.PageRow

    public func page(batchID: String, userID: String, after cursor: Int, limit: Int) async throws -> [PageRow] {
        try await database.withConnection { db in
            try Recipients.expansionPage(db, batchID: batchID, userID: userID, after: cursor, limit: limit)
        }
    }

    /// Moves the batch's cursor past a page whose chunks are published, storing what the processor
    /// decided itself. Nil when the batch stopped processing or another processor moved the cursor:
    /// the caller stops. Otherwise the rows this call changed (each changes once, whoever retries).
    public func commitPage(batchID: String, from cursor: Int, to last: Int, decided: [RowUpdate]) async throws -> [Written]? {
        try await database.withConnection { db in
            try db.transaction { () throws(PostgresError) -> [Written]? in
                let moved = try db.query("""
                    UPDATE batches SET cursor_position = $3, progressed_at = now(), updated_at = now()
                    WHERE id = $1 AND cursor_position = $2 AND status = \(BatchStatus.processing.sql) RETURNING id
                    """, [batchID, String(cursor), String(last)])
                guard !moved.isEmpty else { return nil }
                return try Self.write(db, batchID: batchID, decided)
            }
        }
    }

    public func finishExpansion(batchID: String) async throws {
        _ = try await database.withConnection { db in
            try db.query("UPDATE batches SET expanded_at = now(), progressed_at = now() WHERE id = $1 AND expanded_at IS NULL", [batchID])
        }
    }

    /// The batch cannot be sent at all: it fails with `reason`, and so does every recipient not yet decided.
    /// Returns the positions that failed now.
    @discardableResult
    public func fail(batchID: String, reason: String) async throws -> [Int] {
        try await database.withConnection { db in
            try db.transaction { () throws(PostgresError) -> [Int] in
                let failed = try Recipients.failWaiting(db, batchID: batchID, reason: reason)
                _ = try db.query("""
                    UPDATE batches SET status = \(BatchStatus.failed.sql), failure_reason = $2, failed_count = failed_count + $3,
                           completed_at = now(), updated_at = now(), \(Batches.pauseEndsSQL)
                    WHERE id = $1 AND status IN \(BatchStatus.sqlList(BatchStatus.sending))
                    """, [batchID, reason, String(failed.count)])
                return failed
            }
        }
    }

    // MARK: Sender

    /// The owners of every batch being sent now.
    public func tenantsWithBatchesInProgress() async throws -> [String] {
        try await database.withConnection { db in
            try db.query("SELECT DISTINCT user_id::text FROM batches WHERE status = \(BatchStatus.processing.sql)").compactMap { $0[0] }
        }
    }

    /// A send-config as the sender needs it.
    public typealias SendConfig = SendConfigRow

    /// Records the config the batch's messages go through now (nil: its own), when that changed (`BatchEvents`).
    public func switchRoute(batchID: String, via: String?, detail: String) async throws -> Bool {
        try await database.withConnection { db in try BatchEvents.route(db, batchID: batchID, via: via, detail: detail) }
    }

    public func sendConfig(id: String) async throws -> SendConfig? {
        try await database.withConnection { db in try SendConfigs.find(db, id: id) }
    }

    /// A recipient row's new state.
    public typealias RowUpdate = Recipients.Update

    /// A row a write changed: what it became.
    public typealias Written = Recipients.Written

    /// Writes the rows of several batches in one transaction, one statement per batch. Returns the rows
    /// that changed, per batch: a row written again (a retried write, a redone chunk) is not among them.
    @discardableResult
    public func write(_ updates: [String: [RowUpdate]]) async throws -> [String: [Written]] {
        let updates = updates.filter { !$0.value.isEmpty }
        guard !updates.isEmpty else { return [:] }
        return try await database.withConnection { db in
            try db.transaction { () throws(PostgresError) -> [String: [Written]] in
                var written: [String: [Written]] = [:]
                for (batchID, rows) in updates.sorted(by: { $0.key < $1.key }) { written[batchID] = try Self.write(db, batchID: batchID, rows) }
                return written
            }
        }
    }

    /// A row moves only forward (see `Recipients.write`). In a cancelled batch, a send that was in flight at
    /// the cancel overwrites `cancelled` with what really happened, and is taken off the batch's cancelled
    /// count. A sending batch's row is not locked, so its writers never wait on each other; the batch is read
    /// after its recipients are written, and only a cancelled one (its cancel already committed, its locks
    /// gone, so no deadlock) is then updated to correct its count.
    static func write(_ db: PostgresConnection, batchID: String, _ rows: [RowUpdate]) throws(PostgresError) -> [Written] {
        guard !rows.isEmpty else { return [] }
        var changed = try Recipients.write(db, batchID: batchID, rows, uncancelling: false)
        guard try Batches.status(db, id: batchID) == .cancelled else { return changed }
        let uncancelled = try Recipients.write(db, batchID: batchID, rows, uncancelling: true)
        if !uncancelled.isEmpty {
            _ = try db.query("UPDATE batches SET cancelled_count = cancelled_count - $2::integer WHERE id = $1",
                             [batchID, String(uncancelled.count)])
        }
        changed += uncancelled
        return changed
    }

    /// Where some recipients' rows stand now (`Recipients.statuses`).
    public func statuses(batchID: String, positions: [Int]) async throws -> [Int: (status: RecipientStatus, accepted: Bool)] {
        try await database.withConnection { db in try Recipients.statuses(db, batchID: batchID, positions: positions) }
    }

    /// Dead letters re-driven: their recipients wait again with fresh attempts, and a completed batch is processing again.
    /// The positions that were still failed and now wait: only their outcomes are to be forgotten and sent.
    public func redrive(batchID: String, positions: [Int]) async throws -> [Int] {
        try await database.withConnection { db in
            try db.transaction { () throws(PostgresError) -> [Int] in
                let requeued = try Recipients.requeueFailed(db, batchID: batchID, positions: positions)
                _ = try db.query("""
                    UPDATE batches SET status = \(BatchStatus.processing.sql), completed_at = NULL, progressed_at = now(), updated_at = now()
                    WHERE id = $1 AND status = \(BatchStatus.completed.sql)
                    """, [batchID])
                return requeued
            }
        }
    }

    /// What the pipeline decided for a page of the batch's rows, after `cursor`, as its hot state holds it: the
    /// truth a batch's expired hot state is rebuilt from. A row a provider's event moved on (delivered,
    /// bounced, failed after it was accepted: it has a provider message id) was sent.
    public func decided(batchID: String, after cursor: Int, limit: Int) async throws -> [(position: Int, outcome: DeliveryState.Outcome)] {
        try await database.withConnection { db in try Recipients.decidedPage(db, batchID: batchID, after: cursor, limit: limit) }.map { row in
            let outcome: DeliveryState.Outcome = switch row.status {
            case .cancelled: .cancelled
            case .suppressed: .suppressed
            case .failed where row.providerMessageID == nil: .failed(reason: row.lastError ?? "")
            default: .sent(providerMessageID: row.providerMessageID ?? "")
            }
            return (row.position, outcome)
        }
    }

    /// Waiting recipients a provider may have taken, with the fallback config they went through (`Recipients.pinnedPage`).
    public func pinned(batchID: String, after cursor: Int, limit: Int) async throws -> [(position: Int, via: String?)] {
        try await database.withConnection { db in try Recipients.pinnedPage(db, batchID: batchID, after: cursor, limit: limit) }
    }

    /// What a rebuild of the batch's hot state needs besides its rows: its status (a cancelled batch's cancel is
    /// put back) and the recipients suppressed at upload (their rows say suppressed, but the pipeline never
    /// decided them). nil for a batch that does not exist.
    public func standing(batchID: String) async throws -> (status: BatchStatus?, suppressedAtUpload: Int, pause: DeliveryState.Pause)? {
        guard let row = try await database.withConnection({ db in
            try db.query("SELECT status, suppressed_count, pause_version, paused_at IS NOT NULL FROM batches WHERE id = $1", [batchID])
        }).first else { return nil }
        return (row[0].flatMap(BatchStatus.init(rawValue:)), row[1].flatMap { Int($0) } ?? 0,
                DeliveryState.Pause(version: row[2].flatMap { Int($0) } ?? 0, paused: row[3] == "t"))
    }

    /// The batches being sent now.
    public func inProgress() async throws -> [String] {
        try await database.withConnection { db in
            try db.query("SELECT id::text FROM batches WHERE status = \(BatchStatus.processing.sql) ORDER BY created_at").compactMap { $0[0] }
        }
    }

    // MARK: Background

    /// A batch the counter sync looks at.
    public struct Progress: Sendable {
        public var id, status: String
        /// Recipients the pipeline owes an outcome: all but those suppressed at upload.
        public var owed: Int
        public var expanded: Bool
        public var quietMs: Int64
        /// Its pause as the rows hold it (version 0: never paused nor resumed).
        public var pause: DeliveryState.Pause
        /// `status` in the vocabulary's terms.
        public var batchStatus: BatchStatus? { BatchStatus(rawValue: status) }

        public init(id: String, status: String, owed: Int, expanded: Bool, quietMs: Int64, pause: DeliveryState.Pause = DeliveryState.Pause()) {
            self.id = id
            self.status = status
            self.owed = owed
            self.expanded = expanded
            self.quietMs = quietMs
            self.pause = pause
        }
    }

    /// Stores the hot counters and returns where each batch stands.
    public func sync(_ counters: [String: BatchCounters]) async throws -> [Progress] {
        guard !counters.isEmpty else { return [] }
        let ids = counters.keys.sorted()
        let c = ids.map { counters[$0]! }
        return try await database.withConnection { db in
            try db.query("""
                WITH input AS (SELECT * FROM unnest($1::uuid[], $2::integer[], $3::integer[], $4::integer[], $5::bigint[])
                                             AS t(id, sent, failed, suppressed, last))
                UPDATE batches b SET sent_count = i.sent, failed_count = i.failed, late_suppressed_count = i.suppressed,
                       last_outcome_at = CASE WHEN i.last > 0 THEN to_timestamp(i.last / 1000.0) ELSE b.last_outcome_at END,
                       progressed_at = CASE WHEN (b.sent_count, b.failed_count, b.late_suppressed_count) <> (i.sent, i.failed, i.suppressed)
                                            THEN now() ELSE b.progressed_at END,
                       updated_at = CASE WHEN (b.sent_count, b.failed_count, b.late_suppressed_count) <> (i.sent, i.failed, i.suppressed)
                                         THEN now() ELSE b.updated_at END
                FROM input i WHERE b.id = i.id AND b.status <> \(BatchStatus.failed.sql)
                RETURNING b.id, b.status, b.recipient_count - b.suppressed_count, b.expanded_at IS NOT NULL,
                          (extract(epoch FROM now() - coalesce(b.progressed_at, b.updated_at)) * 1000)::bigint,
                          b.pause_version, b.paused_at IS NOT NULL
                """, [PostgresArray.literal(ids), PostgresArray.literal(c.map(\.sent)), PostgresArray.literal(c.map(\.failed)),
                      PostgresArray.literal(c.map(\.suppressed)), PostgresArray.literal(c.map(\.lastOutcomeMs))])
        }.map { r in
            Progress(id: r[0] ?? "", status: r[1] ?? "", owed: Int(r[2] ?? "0") ?? 0, expanded: r[3] == "t",
                     quietMs: Int64(r[4] ?? "0") ?? 0, pause: DeliveryState.Pause(version: Int(r[5] ?? "0") ?? 0, paused: r[6] == "t"))
        }
    }

    /// processing → completed, once no recipient row still waits (the rows trail Redis by one write).
    public func complete(batchID: String) async throws -> Bool {
        try await database.withConnection { db in
            try db.query("""
                UPDATE batches SET status = \(BatchStatus.completed.sql), completed_at = now(), updated_at = now(), \(Batches.pauseEndsSQL)
                WHERE id = $1 AND status = \(BatchStatus.processing.sql) AND NOT \(Recipients.waitingExistsSQL)
                RETURNING id
                """, [batchID])
        }.isEmpty == false
    }

    /// Processing batches without progress for `quietMs`; a paused batch is quiet on purpose.
    public func stuck(quietMs: Int64) async throws -> [(id: String, userID: String)] {
        try await database.withConnection { db in
            try db.query("""
                SELECT id, user_id FROM batches WHERE status = \(BatchStatus.processing.sql) AND paused_at IS NULL
                  AND coalesce(progressed_at, updated_at) < now() - make_interval(secs => $1::double precision / 1000)
                """, [String(quietMs)])
        }.map { ($0[0] ?? "", $0[1] ?? "") }
    }

    /// Starts a stuck batch's expansion over: chunks already published keep their ids (JetStream drops
    /// repeats within its window) and recipients already decided are skipped by their claims.
    /// The recovery's number (for the new batch job's id), nil when the batch is no longer processing.
    public func restartExpansion(batchID: String) async throws -> Int? {
        try await database.withConnection { db in
            try db.query("""
                UPDATE batches SET cursor_position = 0, expanded_at = NULL, progressed_at = now(),
                       recoveries = recoveries + 1
                WHERE id = $1 AND status = \(BatchStatus.processing.sql) RETURNING recoveries
                """, [batchID])
        }.first?[0].flatMap { Int($0) }
    }
}
