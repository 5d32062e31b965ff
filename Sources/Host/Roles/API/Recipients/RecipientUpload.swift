import Analytics
import Domain
import HostCore
import Hummingbird
import Messaging
import NIOCore
import NIOPosix
import Persistence
import ProviderCrypto
import ProviderInstances
import ProviderModel

/// Stores one chunk of recipients into a draft batch, all or nothing, in two steps. First the body is
/// read (within `[api] body_timeout_ms`) and every row checked and written, as COPY text, to a spool
/// file: a slow client holds no connection, no transaction and little memory. Then, in one short
/// transaction, the rows go to PostgreSQL with COPY into a staging table and are merged in one
/// statement that drops duplicates (within the chunk and against the batch, by the batch's unique
/// index), marks suppressed addresses and numbers the rest in upload order. A malformed row, a broken
/// connection or a batch that would exceed its limit stores nothing.
struct RecipientUpload {
    let database: Database
    let maxRecipients: Int
    /// How long a client may take to send a body.
    let bodyTimeout: Duration

    /// Where the rows go: the batch, its owner and the channel its addresses are checked for.
    struct Target: Sendable {
        var batchID: String
        var userID: String
        var channel: ProviderModel.Channel
        /// `open` found the work already done by an earlier request with the same `Idempotency-Key`: this
        /// batch is that request's, and nothing is stored.
        var replay = false
    }

    /// Rows read, checked for `channel` and spooled: what `commit` stores.
    struct Checked: Sendable {
        var spool: SpoolFile
        var rows: Int
        var channel: ProviderModel.Channel
        /// SHA-256 of the body as received (JSON bodies), what an `Idempotency-Key` is bound to.
        var fingerprint: [UInt8] = []
    }

    struct Result: Sendable {
        var received: Int
        var accepted: Int
        var suppressed: Int
        var total: Int
        var duplicates: Int { received - accepted }

        var json: JSONValue {
            .object(["received": .number(Double(received)), "accepted": .number(Double(accepted)),
                     "duplicates": .number(Double(duplicates)), "suppressed": .number(Double(suppressed)),
                     "total": .number(Double(total))])
        }
    }

    /// A CSV body, parsed and checked as it arrives. Every line counts toward the limit, blank ones too.
    func checkCSV(_ body: RequestBody, channel: ProviderModel.Channel) async throws(APIError) -> Checked {
        let limit = maxRecipients
        return try await BodyDeadline.within(bodyTimeout) {
            var parser = CSVRecipientParser()
            var collector = try RecipientCollector(channel: channel, limit: limit, isCSV: true)
            for try await buffer in body {
                try buffer.withUnsafeReadableBytes { bytes throws(APIError) in
                    try parser.consume(bytes) { row throws(APIError) in try collector.add(row) }
                }
                guard parser.lines <= limit + 1 else {
                    throw APIError.tooLarge("an upload holds at most \(limit) lines of recipients after its header", field: "body")
                }
                try await collector.spill()
            }
            try parser.finish { row throws(APIError) in try collector.add(row) }
            return try await collector.finish()
        }
    }

    /// A JSON body as it arrives, kept in a spool file unread: at most `limit` bytes.
    func receive(_ body: RequestBody, limit: Int) async throws(APIError) -> SpoolFile {
        try await BodyDeadline.within(bodyTimeout) {
            let spool = try SpoolFile()
            for try await buffer in body {
                guard spool.length + buffer.readableBytes <= limit else {
                    throw APIError.tooLarge("the body is larger than \(limit) bytes", field: "body")
                }
                try await spool.append(buffer.readableBytesView)
            }
            return spool
        }
    }

    /// A received JSON body without its streamed `recipients` array (`null` in its place), for the ordinary parser.
    static func rest(_ body: SpoolFile) async throws(APIError) -> [UInt8] {
        try await blocking(body) {
            var scanner = JSONRecipientScanner(.member("recipients"))
            try body.read { bytes in try scanner.consume(bytes) { _, _ throws(APIError) in } }
            try scanner.finish()
            return scanner.rest
        }
    }

    /// The recipients of a received JSON body (the body itself, or its `recipients` member), each parsed
    /// alone and checked for `channel`.
    func checkJSON(_ body: SpoolFile, shape: JSONRecipientScanner.Shape, channel: ProviderModel.Channel) async throws(APIError) -> Checked {
        let limit = maxRecipients
        return try await Self.blocking(body) {
            var scanner = JSONRecipientScanner(shape)
            var collector = try RecipientCollector(channel: channel, limit: limit, isCSV: false)
            var hasher = SHA256Hasher()
            try body.read { bytes in
                hasher.update(bytes)
                try scanner.consume(bytes) { element, index throws(APIError) in
                    let value = try JSONFields.document(element, path: "recipients[\(index)]")
                    try collector.add(try JSONRecipient.row(value, index: index))
                }
                try collector.spillBlocking()
            }
            try scanner.finish()
            var checked = try collector.finishBlocking()
            checked.fingerprint = hasher.finish()
            return checked
        }
    }

    /// Parsing a spooled body reads a file and takes CPU: on NIO's pool, never the cooperative one. A body
    /// still in memory (a few hundred KiB at most) is parsed where it is, without waiting for that pool.
    private static func blocking<T: Sendable>(_ body: SpoolFile, _ work: @escaping @Sendable () throws -> T) async throws(APIError) -> T {
        do {
            if body.isInMemory { return try work() }
            return try await NIOThreadPool.singleton.runIfActive(work)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.unavailable("the upload could not be read back (\(error)); retry shortly")
        }
    }

    /// `open` runs first in the transaction: it finds (or creates) the batch and checks it takes recipients,
    /// without locking it, so that several chunks for one batch stream and merge at once. The batch's row is
    /// locked only by the last statement, which adds to its counters and checks again that it is a draft
    /// with room for the chunk.
    func commit(_ checked: Checked, open: @escaping @Sendable (PostgresConnection) throws -> Target) async throws(APIError) -> (Target, Result) {
        do {
            return try await database.pool.withConnection { db in
                try db.execute("BEGIN")
                do {
                    // The merge sorts a whole chunk: in memory, and without JIT compiling, which its
                    // high cost estimate would trigger and which took longer than the query itself.
                    try db.execute("SET LOCAL jit = off; SET LOCAL work_mem = '64MB'")
                    let target = try open(db)
                    if target.replay {
                        try db.execute("ROLLBACK")
                        return (target, Result(received: 0, accepted: 0, suppressed: 0, total: 0))
                    }
                    guard target.channel == checked.channel else {
                        throw APIError.conflict("the send-config changed channel while the upload arrived; nothing was stored, send it again")
                    }
                    try db.execute("""
                        CREATE TEMP TABLE IF NOT EXISTS recipient_staging (line integer, address text COLLATE "C", variables jsonb)
                        ON COMMIT DELETE ROWS
                        """)
                    try db.beginCopy("COPY recipient_staging (line, address, variables) FROM STDIN")
                    do {
                        try checked.spool.read { bytes in try db.copyData(bytes) }
                        try db.finishCopy()
                    } catch {
                        db.abortCopy(reason: "upload rejected")
                        throw error
                    }
                    let result = try merge(db, target: target, received: checked.rows)
                    try db.execute("COMMIT")
                    return (target, result)
                } catch {
                    // Whatever was sent is discarded. A connection whose rollback fails is not healthy and is not reused.
                    try? db.execute("ROLLBACK")
                    throw error
                }
            }
        } catch {
            throw database.translate(error)
        }
    }

    /// Inserts the staged rows in upload order, each address once: the batch's unique index drops what an
    /// earlier row of this chunk, an earlier chunk or a chunk merging at the same time already holds.
    /// Suppressions are joined (the planner picks hash or index), not probed by a subquery per row.
    static let insertSQL = """
        WITH inserted AS (
            INSERT INTO recipients (batch_id, position, address, variables, status)
            SELECT $1, nextval('recipient_positions'), s.address, s.variables,
                   CASE WHEN s.suppressed THEN 'suppressed' ELSE 'pending' END
            FROM (SELECT r.address, r.variables, x.address IS NOT NULL AS suppressed
                  FROM recipient_staging r
                  LEFT JOIN suppressions x ON x.user_id = $2 AND x.address = r.address
                  ORDER BY r.line) s
            ON CONFLICT (batch_id, address) DO NOTHING
            RETURNING status
        )
        SELECT count(*), count(*) FILTER (WHERE status = 'suppressed') FROM inserted
        """

    /// Two chunks merging at once can each wait for an address the other inserted first; PostgreSQL then
    /// aborts one of them. Its merge is retried, the staged rows kept, rather than failing the upload.
    static let mergeAttempts = 4

    /// One try at the insert: its counts, or nil when PostgreSQL chose it to break a deadlock (and it is not the last try).
    private func insert(_ db: PostgresConnection, target: Target, last: Bool) throws(PostgresError) -> [[String?]]? {
        try db.execute("SAVEPOINT merge")
        let counts: [[String?]]
        do {
            counts = try db.query(Self.insertSQL, [target.batchID, target.userID])
        } catch {
            guard error.kind == .statement(sqlState: "40P01"), !last else { throw error }
            try db.execute("ROLLBACK TO SAVEPOINT merge")
            return nil
        }
        try db.execute("RELEASE SAVEPOINT merge")
        return counts
    }

    private func merge(_ db: PostgresConnection, target: Target, received: Int) throws -> Result {
        var counts: [[String?]]?
        for attempt in 1...Self.mergeAttempts where counts == nil {
            counts = try insert(db, target: target, last: attempt == Self.mergeAttempts)
        }
        let accepted = Int(counts?.first?[0] ?? "0") ?? 0, suppressed = Int(counts?.first?[1] ?? "0") ?? 0
        // The one statement that locks the batch, held until the commit: concurrent chunks add up one after
        // another, and a batch sent or cancelled meanwhile turns this chunk away whole.
        let updated = try db.query("""
            UPDATE batches SET recipient_count = recipient_count + $2, duplicate_count = duplicate_count + $3,
                   suppressed_count = suppressed_count + $4, updated_at = now()
            WHERE id = $1 AND status = 'draft'
            RETURNING recipient_count
            """, [target.batchID, String(accepted), String(received - accepted), String(suppressed)])
        guard let total = updated.first?[0].flatMap({ Int($0) }) else {
            let status = try db.query("SELECT status FROM batches WHERE id = $1", [target.batchID]).first?[0] ?? nil
            throw APIError.conflict("the batch is \(status ?? "gone") now; recipients can only be added to a draft, and nothing in this upload was stored",
                                    field: "path.id")
        }
        guard total <= maxRecipients else {
            throw APIError.tooLarge("the batch would hold \(total) recipients; a batch holds at most \(maxRecipients)", field: "body")
        }
        return Result(received: received, accepted: accepted, suppressed: suppressed, total: total)
    }
}

/// A recipient in a JSON upload: `"address"` alone, or `{"address", "variables"}`.
enum JSONRecipient {
    static func row(_ entry: JSONValue, index: Int) throws(APIError) -> RecipientRow {
        let path = "recipients[\(index)]"
        if case .string(let address) = entry { return RecipientRow(line: index + 1, address: address, variablesJSON: "{}") }
        let fields = try JSONFields(entry, path: path, allowed: ["address", "variables"])
        guard let address = try fields.string("address", maxLength: 320) else { throw APIError.invalid(path + ".address", "is required") }
        let variables = try fields.stringMap("variables") ?? [:]
        let json = JSONValue.object(variables.mapValues { .string($0) }).compactText
        return RecipientRow(line: index + 1, address: address, variablesJSON: json)
    }
}
