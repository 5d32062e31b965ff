import Hummingbird
import NIOCore
import ProviderModel
import Storage

/// Stores one chunk of recipients into a draft batch, all or nothing: rows are
/// checked as they stream in and sent to PostgreSQL with COPY into a staging
/// table, then merged in one statement that drops duplicates (within the
/// chunk and against the batch, by the batch's unique index), marks
/// suppressed addresses and numbers the rest in upload order. A malformed row, a broken connection or a batch that would exceed
/// its limit rolls the whole chunk back.
struct RecipientUpload {
    let database: Database
    let maxRecipients: Int

    /// Where the rows go: the batch, its owner and the channel its addresses are checked for.
    struct Target: Sendable {
        var batchID: String
        var userID: String
        var channel: ProviderModel.Channel
    }

    enum Source {
        case csv(RequestBody)
        case json([JSONValue])
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

    /// Flushed to PostgreSQL whenever this much COPY text has built up.
    static let flushBytes = 256 << 10

    /// `open` runs first in the transaction: it finds (or creates) the batch and checks it takes recipients,
    /// without locking it, so that several chunks for one batch stream and merge at once. The batch's row is
    /// locked only by the last statement, which adds to its counters and checks again that it is a draft
    /// with room for the chunk.
    func run(source: Source, open: @escaping @Sendable (PostgresConnection) throws -> Target) async throws(APIError) -> (Target, Result) {
        do {
            return try await database.pool.withLease { lease in
                let target = try await lease.run { db in
                    try db.execute("BEGIN")
                    do {
                        // The merge sorts a whole chunk: in memory, and without JIT compiling, which its
                        // high cost estimate would trigger and which took longer than the query itself.
                        try db.execute("SET LOCAL jit = off; SET LOCAL work_mem = '64MB'")
                        let target = try open(db)
                        try db.execute("""
                            CREATE TEMP TABLE IF NOT EXISTS recipient_staging (line integer, address text COLLATE "C", variables jsonb)
                            ON COMMIT DELETE ROWS
                            """)
                        try db.beginCopy("COPY recipient_staging (line, address, variables) FROM STDIN")
                        return target
                    } catch {
                        try? db.execute("ROLLBACK")
                        throw error
                    }
                }
                do {
                    let received = try await stream(source, into: lease, target: target)
                    return try await lease.run { db in
                        try db.finishCopy()
                        let result = try merge(db, target: target, received: received)
                        try db.execute("COMMIT")
                        return (target, result)
                    }
                } catch {
                    // Whatever was sent is discarded: the COPY is aborted and the transaction rolled back.
                    try? await lease.run { db in
                        db.abortCopy(reason: "upload rejected")
                        try? db.execute("ROLLBACK")
                    }
                    throw error
                }
            }
        } catch {
            throw database.translate(error)
        }
    }

    /// Checks and encodes every row, sending COPY text in large pieces; returns the rows sent.
    private func stream(_ source: Source, into lease: ConnectionPool<PostgresConnection>.Lease, target: Target) async throws -> Int {
        var encoder = CopyRowEncoder(capacity: Self.flushBytes + 4_096)
        var sent = 0
        let limit = maxRecipients
        let isCSV = if case .csv = source { true } else { false }
        func add(_ row: RecipientRow) throws(APIError) {
            switch RecipientAddress.normalize(row.address, channel: target.channel) {
            case .success(let address):
                var row = row
                row.address = address
                encoder.append(row)
            case .failure(let problem):
                let (field, place) = isCSV ? ("line \(row.line)", "CSV line \(row.line)") : ("recipients[\(row.line - 1)].address", "recipient \(row.line)")
                throw APIError.invalid(field, "\(place): address \(problem.reason); nothing in this upload was stored")
            }
            sent += 1
            guard sent <= limit else {
                throw APIError.tooLarge("an upload holds at most \(limit) recipients", field: "body")
            }
        }
        func flush() async throws {
            guard !encoder.bytes.isEmpty else { return }
            let chunk = encoder.bytes
            encoder.removeAll()
            try await lease.run { db in try chunk.withUnsafeBytes { bytes in try db.copyData(bytes) } }
        }
        switch source {
        case .json(let entries):
            for (index, entry) in entries.enumerated() {
                try add(try JSONRecipient.row(entry, index: index))
                if encoder.bytes.count >= Self.flushBytes { try await flush() }
            }
        case .csv(let body):
            var parser = CSVRecipientParser()
            for try await buffer in body {
                try buffer.withUnsafeReadableBytes { bytes throws(APIError) in try parser.consume(bytes, emit: add) }
                if encoder.bytes.count >= Self.flushBytes { try await flush() }
            }
            try parser.finish(emit: add)
        }
        try await flush()
        return sent
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
