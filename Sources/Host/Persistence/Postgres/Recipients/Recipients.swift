import Domain

/// The `recipients` table: one row per recipient of a batch (a message is a batch of one), numbered by
/// `position` across all batches. Rows are written in bulk (one statement per batch per round, thousands
/// of rows), never one UPDATE per message. With it, `provider_messages`: the recipients' lookup by the id a
/// provider gave their message, kept apart so that recording a send changes no indexed column of the row
/// (migration 20, `InPlaceRecipientUpdates`).
public enum Recipients {
    static let waiting = RecipientStatus.sqlList(RecipientStatus.waiting)

    /// `status` when the by-status index holds it (`rare_status`, version 20), so that a query names the
    /// indexed column; nil for the common statuses, which are found along the primary key.
    public static func rare(_ status: RecipientStatus) -> RecipientStatus? {
        RecipientStatus.common.contains(status) ? nil : status
    }

    // MARK: Upload

    /// Copies an upload's rows (COPY text: line, address, variables) into this transaction's staging table.
    /// `feed` hands each piece of the spooled text to the sender it is given.
    public static func stage(_ db: PostgresConnection,
                             _ feed: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        // The merge sorts a whole chunk: in memory, and without JIT compiling, which its high cost estimate
        // would trigger and which took longer than the query itself.
        try db.execute("SET LOCAL jit = off; SET LOCAL work_mem = '64MB'")
        try db.execute("""
            CREATE TEMP TABLE IF NOT EXISTS recipient_staging (line integer, address text COLLATE "C", variables jsonb)
            ON COMMIT DELETE ROWS
            """)
        try db.beginCopy("COPY recipient_staging (line, address, variables) FROM STDIN")
        do {
            try feed { bytes in try db.copyData(bytes) }
            try db.finishCopy()
        } catch {
            db.abortCopy(reason: "upload rejected")
            throw error
        }
    }

    /// Inserts the staged rows in upload order, each address once: the batch's unique index drops what an
    /// earlier row of this chunk, an earlier chunk or a chunk merging at the same time already holds.
    /// Suppressions are joined (the planner picks hash or index), not probed by a subquery per row.
    static let mergeSQL = """
        WITH inserted AS (
            INSERT INTO recipients (batch_id, position, address, variables, status)
            SELECT $1, nextval('recipient_positions'), s.address, s.variables,
                   CASE WHEN s.suppressed THEN \(RecipientStatus.suppressed.sql) ELSE \(RecipientStatus.pending.sql) END
            FROM (SELECT r.address, r.variables, x.address IS NOT NULL AS suppressed
                  FROM recipient_staging r
                  LEFT JOIN suppressions x ON x.user_id = $2 AND x.address = r.address
                  ORDER BY r.line) s
            ON CONFLICT (batch_id, address) DO NOTHING
            RETURNING status
        )
        SELECT count(*), count(*) FILTER (WHERE status = \(RecipientStatus.suppressed.sql)) FROM inserted
        """

    /// Another writer of the batch's rows can wait for an address this merge inserted first while this merge
    /// waits for one of its; PostgreSQL then aborts one of them. The merge is retried, the staged rows kept,
    /// rather than failing the upload.
    static let mergeAttempts = 4

    /// Merges the staged rows into the batch: how many were new, and how many of those are suppressed.
    /// Chunks of one batch merge one at a time (a lock on the batch until the upload's transaction ends): two
    /// large chunks with the same addresses in opposite orders otherwise deadlock again on every retry, each
    /// try inserting from its own end, until the retries run out. Their COPY into staging still runs at once.
    public static func mergeStaged(_ db: PostgresConnection, batchID: String, userID: String) throws(PostgresError) -> (accepted: Int, suppressed: Int) {
        _ = try db.query("SELECT pg_advisory_xact_lock(hashtext('recipients-merge:' || $1))", [batchID])
        var counts: [[String?]]?
        for attempt in 1...mergeAttempts where counts == nil {
            counts = try mergeOnce(db, batchID: batchID, userID: userID, last: attempt == mergeAttempts)
        }
        return (Int(counts?.first?[0] ?? "0") ?? 0, Int(counts?.first?[1] ?? "0") ?? 0)
    }

    /// One try at the merge: its counts, or nil when PostgreSQL chose it to break a deadlock (and it is not the last try).
    private static func mergeOnce(_ db: PostgresConnection, batchID: String, userID: String, last: Bool) throws(PostgresError) -> [[String?]]? {
        try db.execute("SAVEPOINT merge")
        let counts: [[String?]]
        do {
            counts = try db.query(mergeSQL, [batchID, userID])
        } catch {
            guard error.kind == .statement(sqlState: "40P01"), !last else { throw error }
            try db.execute("ROLLBACK TO SAVEPOINT merge")
            return nil
        }
        try db.execute("RELEASE SAVEPOINT merge")
        return counts
    }

    /// The one recipient of a message, numbered like every other.
    public static func insertOne(_ db: PostgresConnection, batchID: String, address: String, variablesJSON: String,
                                 status: RecipientStatus) throws(PostgresError) -> Int {
        Int(try db.query("""
            INSERT INTO recipients (batch_id, position, address, variables, status)
            VALUES ($1, nextval('recipient_positions'), $2, $3::jsonb, $4) RETURNING position
            """, [batchID, address, variablesJSON, status.rawValue]).first?[0] ?? "0") ?? 0
    }

    // MARK: Reading

    /// A page of a batch's recipients as JSON, in position order after `cursor`, and the next cursor.
    public static func page(_ db: PostgresConnection, batchID: String, status: RecipientStatus?, after cursor: Int64,
                            limit: Int) throws(PostgresError) -> (rows: [String], next: String?) {
        let rows = try db.query("""
            SELECT jsonb_build_object('position', position, 'address', address, 'variables', variables, 'status', status,
                                      'providerMessageId', provider_message_id, 'attempts', attempts,
                                      'lastError', last_error, 'updatedAt', updated_at)::text, position
            FROM recipients WHERE batch_id = $1 AND ($2::text IS NULL OR status = $2) AND ($5::text IS NULL OR rare_status = $5)
              AND position > $3::bigint
            ORDER BY position LIMIT $4
            """, [batchID, status?.rawValue, String(cursor), String(limit + 1), status.flatMap(rare)?.rawValue])
        let page = rows.prefix(limit)
        return (page.compactMap { $0[0] }, rows.count > limit ? page.last?[1] ?? nil : nil)
    }

    /// One recipient as its history starts: where it stands, and when its batch was queued.
    public struct Standing: Sendable {
        public var status: RecipientStatus?
        public var sentAt: String?
        public var updatedAt: String?
        public var providerMessageID: String?
        public var lastError: String?
        public var queuedAt: String?
    }

    /// The recipient at `position` of a batch of `userID`'s, or nil.
    public static func standing(_ db: PostgresConnection, batchID: String, position: Int64, userID: String) throws(PostgresError) -> Standing? {
        try db.query("""
            SELECT r.status, r.sent_at, r.updated_at, r.provider_message_id, r.last_error, b.queued_at
            FROM recipients r JOIN batches b ON b.id = r.batch_id
            WHERE r.batch_id = $1 AND r.position = $2 AND b.user_id = $3
            """, [batchID, String(position), userID]).first.map {
            Standing(status: $0[0].flatMap(RecipientStatus.init(rawValue:)), sentAt: $0[1], updatedAt: $0[2], providerMessageID: $0[3],
                     lastError: $0[4], queuedAt: $0[5])
        }
    }

    /// One recipient of a page, with whether the user suppressed its address since the upload.
    public struct PageRow: Sendable {
        public var position: Int
        public var address: String
        public var variablesJSON: String
        public var status: String
        public var suppressedNow: Bool
        /// `status` in the vocabulary's terms.
        public var recipientStatus: RecipientStatus? { RecipientStatus(rawValue: status) }
    }

    /// The processor's page: recipients after `cursor`, in position order.
    public static func expansionPage(_ db: PostgresConnection, batchID: String, userID: String, after cursor: Int,
                                     limit: Int) throws(PostgresError) -> [PageRow] {
        try db.query("""
            SELECT r.position, r.address, r.variables::text, r.status,
                   EXISTS (SELECT 1 FROM suppressions s WHERE s.user_id = $2 AND s.address = r.address)
            FROM recipients r WHERE r.batch_id = $1 AND r.position > $3 ORDER BY r.position LIMIT $4
            """, [batchID, userID, String(cursor), String(limit)]).map { r in
            PageRow(position: Int(r[0] ?? "0") ?? 0, address: r[1] ?? "", variablesJSON: r[2] ?? "{}", status: r[3] ?? "",
                    suppressedNow: r[4] == "t")
        }
    }

    /// A page of the batch's rows that no longer wait, in position order after `cursor`: what each became.
    public static func decidedPage(_ db: PostgresConnection, batchID: String, after cursor: Int, limit: Int) throws(PostgresError) -> [Written] {
        try db.query("""
            SELECT position, status, provider_message_id, last_error FROM recipients
            WHERE batch_id = $1 AND position > $2 AND status NOT IN \(waiting) ORDER BY position LIMIT $3
            """, [batchID, String(cursor), String(limit)]).compactMap { row in
            guard let position = row[0].flatMap(Int.init), let status = row[1].flatMap(RecipientStatus.init(rawValue:)) else { return nil }
            return Written(position: position, status: status, providerMessageID: row[2], lastError: row[3])
        }
    }

    /// Waiting recipients that a provider may have taken already (an attempt spent, a probe unanswered, or sent
    /// through a fallback send-config, `sent_via`), after `cursor` by position: what a rebuild of the hot state pins to the config
    /// they went out through, since Redis lost the requests that said so.
    public static func pinnedPage(_ db: PostgresConnection, batchID: String, after cursor: Int,
                                  limit: Int) throws(PostgresError) -> [(position: Int, via: String?)] {
        try db.query("""
            SELECT position, sent_via::text FROM recipients
            WHERE batch_id = $1 AND position > $2 AND status IN \(waiting) AND (attempts > 0 OR last_error IS NOT NULL OR sent_via IS NOT NULL)
            ORDER BY position LIMIT $3
            """, [batchID, String(cursor), String(limit)]).compactMap { row in
            row[0].flatMap(Int.init).map { ($0, row[1]) }
        }
    }

    /// Whether any recipient of the batch still waits to be sent.
    public static let waitingExistsSQL = "EXISTS (SELECT 1 FROM recipients WHERE batch_id = $1 AND status IN \(waiting))"

    /// Refreshes the planner's statistics. A batch uploaded since the last ANALYZE looks like one row to the
    /// planner, which then finds each chunk's rows by scanning the whole batch (a write costs hundreds of
    /// milliseconds instead of one); after it, by batch and position.
    public static func analyze(_ db: PostgresConnection) throws(PostgresError) {
        try db.execute("ANALYZE recipients")
    }

    // MARK: Changing many

    /// The batch's recipients that still wait become cancelled; how many did.
    public static func cancelWaiting(_ db: PostgresConnection, batchID: String) throws(PostgresError) -> Int {
        // Counted in the server: a million cancelled rows are one number on the wire, not a million.
        try db.query("""
            WITH c AS (UPDATE recipients SET status = \(RecipientStatus.cancelled.sql), updated_at = now()
                       WHERE batch_id = $1 AND status IN \(waiting) RETURNING 1)
            SELECT count(*) FROM c
            """, [batchID]).first?[0].flatMap { Int($0) } ?? 0
    }

    /// The batch's recipients that still wait fail with `reason`; their positions.
    public static func failWaiting(_ db: PostgresConnection, batchID: String, reason: String) throws(PostgresError) -> [Int] {
        try db.query("""
            UPDATE recipients SET status = \(RecipientStatus.failed.sql), last_error = $2, updated_at = now()
            WHERE batch_id = $1 AND status IN \(waiting) RETURNING position
            """, [batchID, reason]).compactMap { $0[0].flatMap(Int.init) }
    }

    /// Where some recipients stand now: each one's status, and whether a provider took it (it has a provider
    /// message id). Positions without a row are left out.
    public static func statuses(_ db: PostgresConnection, batchID: String, positions: [Int]) throws(PostgresError)
        -> [Int: (status: RecipientStatus, accepted: Bool)] {
        var found: [Int: (status: RecipientStatus, accepted: Bool)] = [:]
        for row in try db.query("""
            SELECT position, status, provider_message_id IS NOT NULL FROM recipients
            WHERE batch_id = $1 AND position = ANY($2::bigint[])
            """, [batchID, PostgresArray.literal(positions)]) {
            guard let position = row[0].flatMap(Int.init), let status = row[1].flatMap(RecipientStatus.init(rawValue:)) else { continue }
            found[position] = (status, row[2] == "t")
        }
        return found
    }

    /// The failed recipients of a batch that a retry sends again: those the provider never accepted, and of them only
    /// those that failed for want of attempts (transient failures each time) unless `all`; a refusal (an address the
    /// provider rejects, a missing variable) fails the same way again.
    public static func retryable(_ db: PostgresConnection, batchID: String, all: Bool) throws(PostgresError) -> [Int] {
        try db.query("""
            SELECT position FROM recipients
            WHERE batch_id = $1 AND rare_status = \(RecipientStatus.failed.sql) AND provider_message_id IS NULL
              AND ($2::boolean OR starts_with(coalesce(last_error, ''), $3))
            ORDER BY position
            """, [batchID, all ? "true" : "false", OutcomePolicy.exhaustedPrefix]).compactMap { $0[0].flatMap { Int($0) } }
    }

    /// Failed recipients wait again with fresh attempts (a dead letter re-driven, a retry): the positions that were
    /// still failed and now wait (another redrive or retry may have taken some first).
    @discardableResult
    public static func requeueFailed(_ db: PostgresConnection, batchID: String, positions: [Int]) throws(PostgresError) -> [Int] {
        guard !positions.isEmpty else { return [] }
        return try db.query("""
            UPDATE recipients SET status = \(RecipientStatus.queued.sql), attempts = 0, last_error = NULL, updated_at = now()
            WHERE batch_id = $1 AND position = ANY($2::bigint[]) AND status = \(RecipientStatus.failed.sql)
            RETURNING position
            """, [batchID, PostgresArray.literal(positions)]).compactMap { $0[0].flatMap { Int($0) } }.sorted()
    }

    /// A recipient row's new state.
    public struct Update: Sendable {
        public var position: Int
        public var status: RecipientStatus
        public var providerMessageID: String?
        public var lastError: String?
        public var attempts: Int
        /// The fallback send-config that sent it (nil for the batch's own).
        public var sentVia: String?

        public init(position: Int, status: RecipientStatus, providerMessageID: String? = nil, lastError: String? = nil, attempts: Int,
                    sentVia: String? = nil) {
            self.sentVia = sentVia
            self.position = position
            self.status = status
            self.providerMessageID = providerMessageID
            self.lastError = lastError
            self.attempts = attempts
        }
    }

    /// A row a write changed: what it became.
    public struct Written: Sendable, Equatable {
        public var position: Int
        public var status: RecipientStatus
        public var providerMessageID: String?
        public var lastError: String?
    }

    /// Writes outcomes to one batch's rows. A row moves only forward: a send outcome overwrites a waiting
    /// status, never a later webhook's status; with `uncancelling`, a send that was in flight at a cancel
    /// overwrites `cancelled` with what really happened (sent or failed) instead. The positions are also
    /// given as `= ANY` so that the primary key is searched by batch and position whatever the statistics
    /// say: a batch newer than the last ANALYZE looks like one row to the planner, which would otherwise
    /// scan the whole batch by its id for every write. Returns the rows that changed.
    public static func write(_ db: PostgresConnection, batchID: String, _ rows: [Update], uncancelling: Bool) throws(PostgresError) -> [Written] {
        guard !rows.isEmpty else { return [] }
        let sorted = rows.sorted { $0.position < $1.position }
        let parameters = [batchID, PostgresArray.literal(sorted.map(\.position)), PostgresArray.literal(sorted.map { Optional($0.status.rawValue) }),
                          PostgresArray.unnestColumn(sorted.map(\.providerMessageID)), PostgresArray.unnestColumn(sorted.map(\.lastError)),
                          PostgresArray.literal(sorted.map(\.attempts)), PostgresArray.unnestColumn(sorted.map(\.sentVia))]
        let only = uncancelling
            ? "r.status = \(RecipientStatus.cancelled.sql) AND i.status IN \(RecipientStatus.sqlList([.sent, .failed]))"
            : "r.status IN \(waiting)"
        // A provider's message id also goes into `provider_messages`, the webhooks' lookup, in the same
        // statement: the row's own column has no index, so that the update stays on its page. The lookup has no
        // unique key (version 22): a send recorded again under the same id (its recipient moved to `deferred`
        // meanwhile) writes its row again, and `matching` reads an id's rows once per recipient.
        return try db.query("""
            WITH input AS (
                SELECT * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::integer[], $7::uuid[])
                    AS t(position, status, provider_message_id, last_error, attempts, sent_via)),
            written AS (
            UPDATE recipients r
            SET status = i.status, provider_message_id = coalesce(i.provider_message_id, r.provider_message_id),
                sent_via = CASE WHEN i.status = \(RecipientStatus.sent.sql) THEN i.sent_via ELSE coalesce(i.sent_via, r.sent_via) END,
                last_error = i.last_error, attempts = greatest(r.attempts, i.attempts), updated_at = now(),
                sent_at = CASE WHEN i.status = \(RecipientStatus.sent.sql) THEN now() ELSE r.sent_at END
            FROM input i WHERE r.batch_id = $1 AND r.position = ANY($2::bigint[]) AND r.position = i.position AND \(only)
            RETURNING r.position, r.status, r.provider_message_id, r.last_error, i.provider_message_id AS named),
            looked_up AS (
                INSERT INTO provider_messages (provider_message_id, batch_id, position)
                SELECT named, $1, position FROM written WHERE named IS NOT NULL)
            SELECT position, status, provider_message_id, last_error FROM written
            """, parameters).compactMap { row in
            guard let position = row[0].flatMap(Int.init), let status = row[1].flatMap(RecipientStatus.init(rawValue:)) else { return nil }
            return Written(position: position, status: status, providerMessageID: row[2], lastError: row[3])
        }
    }

    // MARK: Webhooks

    /// A recipient a provider's message id names, and the event (by its index in the round) that named it.
    public struct Matched: Sendable {
        public var index: Int
        public var batchID: String
        public var position: Int
        public var userID: String
        public var address: String
        public var sendConfigID: String
    }

    /// The recipients each event's provider message id names, only within the send-config the webhook came
    /// through (the one that sent the recipient: the batch's own, or the fallback in `sent_via`) (`scope`; a tenant's secret speaks for its own messages only), or within managed configs for
    /// the managed route (`scope` nil). The three arrays are the round's events, in order. Found through
    /// `provider_messages` (see `write`), whose rows for one recipient and id count once.
    public static func matching(_ db: PostgresConnection, messageIDs: [String], providers: [String],
                                scopes: [String?]) throws(PostgresError) -> [Matched] {
        try db.query("""
            SELECT e.i, r.batch_id, r.position, b.user_id, r.address, s.id
            FROM unnest($1::text[], $2::text[], $3::uuid[]) WITH ORDINALITY AS e(mid, provider, scope, i)
            CROSS JOIN LATERAL (SELECT DISTINCT batch_id, position FROM provider_messages WHERE provider_message_id = e.mid) m
            JOIN recipients r ON r.batch_id = m.batch_id AND r.position = m.position
            JOIN batches b ON b.id = r.batch_id
            JOIN send_configs s ON s.id = coalesce(r.sent_via, b.send_config_id) AND s.provider = e.provider
            WHERE CASE WHEN e.scope IS NULL THEN s.mode = 'managed' ELSE s.id = e.scope END
            """, [PostgresArray.literal(messageIDs.map { Optional($0) }), PostgresArray.literal(providers.map { Optional($0) }),
                  PostgresArray.literal(scopes)]).compactMap { row in
            guard let i = row[0].flatMap(Int.init), let batch = row[1], let position = row[2].flatMap(Int.init) else { return nil }
            return Matched(index: i - 1, batchID: batch, position: position, userID: row[3] ?? "", address: row[4] ?? "",
                           sendConfigID: row[5] ?? "")
        }
    }

    /// Moves recipients forward only (see `RecipientStatus.webhookRank`) and keeps their batches' counters
    /// equal to the rows: each move takes one from the old status's counter and adds one to the new's. How
    /// many moved.
    public static func moveForward(_ db: PostgresConnection,
                                   _ moves: [(batchID: String, position: Int, status: RecipientStatus)]) throws(PostgresError) -> Int {
        let rank = "CASE r.status " + RecipientStatus.allCases.map { "WHEN \($0.sql) THEN \($0.webhookRank)" }.joined(separator: " ") + " END"
        let counters = RecipientStatus.allCases.compactMap { status in status.webhookCounter.map { (status, $0) } }
        let deltas = counters.map { status, name in
            "\(name) = b.\(name) + c.\(status.rawValue)_in - c.\(status.rawValue)_out"
        }.joined(separator: ", ")
        let sums = counters.map { status, _ in
            "count(*) FILTER (WHERE new = \(status.sql)) AS \(status.rawValue)_in, count(*) FILTER (WHERE old = \(status.sql)) AS \(status.rawValue)_out"
        }.joined(separator: ", ")
        let rows = try db.query("""
            WITH v AS (SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::integer[]) AS v(batch_id, position, status, rank)),
            old AS (SELECT r.batch_id, r.position, r.status AS old, v.status AS new
                    FROM v JOIN recipients r ON r.batch_id = v.batch_id AND r.position = v.position
                    WHERE r.status IN \(RecipientStatus.sqlList(RecipientStatus.webhookMovable)) AND \(rank) < v.rank
                    ORDER BY r.batch_id, r.position FOR UPDATE OF r),
            moved AS (UPDATE recipients r SET status = old.new, updated_at = now() FROM old
                      WHERE r.batch_id = old.batch_id AND r.position = old.position RETURNING old.batch_id, old.old, old.new),
            c AS (SELECT batch_id, count(*) AS n, \(sums) FROM moved GROUP BY batch_id),
            counted AS (UPDATE batches b SET \(deltas), updated_at = now() FROM c WHERE b.id = c.batch_id RETURNING c.n)
            SELECT coalesce(sum(n), 0) FROM counted
            """, [PostgresArray.literal(moves.map { Optional($0.batchID) }), PostgresArray.literal(moves.map(\.position)),
                  PostgresArray.literal(moves.map { Optional($0.status.rawValue) }), PostgresArray.literal(moves.map(\.status.webhookRank))])
        return rows.first?[0].flatMap(Int.init) ?? 0
    }
}
