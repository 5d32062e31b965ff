import Hummingbird
import NIOCore
import ProviderModel
import Storage

/// Stores one chunk of recipients into a draft batch, all or nothing: rows are
/// checked as they stream in and sent to PostgreSQL with COPY into a staging
/// table, then merged in one statement that drops duplicates (within the
/// chunk and against the batch), marks suppressed addresses and numbers the
/// rest. A malformed row, a broken connection or a batch that would exceed
/// its limit rolls the whole chunk back.
struct RecipientUpload {
    let database: Database
    let maxRecipients: Int

    /// Where the rows go: the locked batch (its owner, channel and current size).
    struct Target: Sendable {
        var batchID: String
        var userID: String
        var channel: ProviderModel.Channel
        var count: Int
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

    /// `lock` runs first in the transaction: it finds (or creates) the batch, locks it and checks it takes recipients.
    func run(source: Source, lock: @escaping @Sendable (PostgresConnection) throws -> Target,
             after: (@Sendable (PostgresConnection, Target) throws -> Void)? = nil) async throws(APIError) -> (Target, Result) {
        do {
            return try await database.pool.withLease { lease in
                let target = try await lease.run { db in
                    try db.execute("BEGIN")
                    do {
                        let target = try lock(db)
                        try db.execute("""
                            CREATE TEMP TABLE IF NOT EXISTS recipient_staging (line integer, address text, variables jsonb)
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
                    let result = try await lease.run { db in
                        try db.finishCopy()
                        let result = try merge(db, target: target, received: received)
                        try after?(db, target)
                        try db.execute("COMMIT")
                        return result
                    }
                    return (target, result)
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

    private func merge(_ db: PostgresConnection, target: Target, received: Int) throws -> Result {
        let counts = try db.query("""
            WITH staged AS (
                SELECT DISTINCT ON (address) line, address, variables FROM recipient_staging ORDER BY address, line
            ), fresh AS (
                SELECT s.line, s.address, s.variables FROM staged s
                WHERE NOT EXISTS (SELECT 1 FROM recipients r WHERE r.batch_id = $1 AND r.address = s.address)
            ), inserted AS (
                INSERT INTO recipients (batch_id, position, address, variables, status)
                SELECT $1, $2::integer + row_number() OVER (ORDER BY f.line), f.address, f.variables,
                       CASE WHEN EXISTS (SELECT 1 FROM suppressions x WHERE x.user_id = $3 AND x.address = f.address)
                            THEN 'suppressed' ELSE 'pending' END
                FROM fresh f
                RETURNING status
            )
            SELECT count(*), count(*) FILTER (WHERE status = 'suppressed') FROM inserted
            """, [target.batchID, String(target.count), target.userID])
        let accepted = Int(counts[0][0] ?? "0") ?? 0, suppressed = Int(counts[0][1] ?? "0") ?? 0
        let total = target.count + accepted
        guard total <= maxRecipients else {
            throw APIError.tooLarge("the batch would hold \(total) recipients; a batch holds at most \(maxRecipients)", field: "body")
        }
        _ = try db.query("""
            UPDATE batches SET recipient_count = recipient_count + $2, duplicate_count = duplicate_count + $3,
                   suppressed_count = suppressed_count + $4, updated_at = now()
            WHERE id = $1
            """, [target.batchID, String(accepted), String(received - accepted), String(suppressed)])
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
