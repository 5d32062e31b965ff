import CPQ
import Domain
import Glibc
import HostCore

/// One PostgreSQL connection through libpq; the only code that touches libpq.
/// Its calls block, so it belongs on a thread of its own (a command's main
/// thread, or a storage thread), never on Swift's cooperative pool.
/// Not thread-safe: one connection, one thread at a time.
public final class PostgresConnection {
    private let connection: OpaquePointer

    /// `url`: `postgres://user[:password]@host:port/database[?options]`.
    public init(url: String) throws(PostgresError) {
        guard let connection = PQconnectdb(url) else { throw PostgresError(.connection, "libpq could not allocate a connection") }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = Self.text(PQerrorMessage(connection))
            PQfinish(connection)
            throw PostgresError(.connection, "cannot connect to \(Self.redacted(url)): \(message)")
        }
        // Server notices ("already exists, skipping") are not errors; libpq would print them on stderr.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        self.connection = connection
    }

    deinit {
        PQfinish(connection)
    }

    /// Runs `sql` (one or more statements, no parameters), discarding any rows.
    public func execute(_ sql: String) throws(PostgresError) {
        let result = PQexec(connection, sql)
        defer { PQclear(result) }
        try check(result, sql: sql)
    }

    /// Runs one statement with `$1…` parameters (text, nil for NULL) and returns its rows as text.
    public func query(_ sql: String, _ parameters: [String?] = []) throws(PostgresError) -> [[String?]] {
        let result = withCStrings(parameters) { pointers in
            PQexecParams(connection, sql, Int32(parameters.count), nil, pointers, nil, nil, 0)
        }
        defer { PQclear(result) }
        try check(result, sql: sql)
        let rows = Int(PQntuples(result)), columns = Int(PQnfields(result))
        return (0..<rows).map { row in
            (0..<columns).map { column in
                PQgetisnull(result, Int32(row), Int32(column)) == 1 ? nil : Self.text(PQgetvalue(result, Int32(row), Int32(column)))
            }
        }
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    public func transaction<T>(_ body: () throws(PostgresError) -> T) throws(PostgresError) -> T {
        try execute("BEGIN")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Whether the connection is still usable: connected, and outside any transaction (one left open by
    /// a ROLLBACK that failed would carry its locks and half its writes into the next borrower's work).
    /// A pool drops one that is not.
    public var isHealthy: Bool { PQstatus(connection) == CONNECTION_OK && PQtransactionStatus(connection) == PQTRANS_IDLE }

    /// Starts `COPY … FROM STDIN`; follow with `copyData` calls and exactly one
    /// `finishCopy` or `abortCopy`. Nothing else may run on the connection meanwhile.
    public func beginCopy(_ sql: String) throws(PostgresError) {
        let result = PQexec(connection, sql)
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_COPY_IN else {
            try check(result, sql: sql)
            throw PostgresError(.statement(sqlState: ""), "\(sql.prefix(80)) did not start a COPY FROM STDIN")
        }
    }

    /// Sends rows in COPY's text format (any split, whole rows not required).
    public func copyData(_ bytes: UnsafeRawBufferPointer) throws(PostgresError) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        let sent = base.withMemoryRebound(to: CChar.self, capacity: bytes.count) { PQputCopyData(connection, $0, Int32(bytes.count)) }
        guard sent == 1 else { throw PostgresError(.connection, "COPY data not sent: \(Self.text(PQerrorMessage(connection)))") }
    }

    /// Ends the COPY; throws what the server found wrong with the data (the COPY is then void).
    public func finishCopy() throws(PostgresError) {
        try endCopy(failure: nil)
    }

    /// Ends the COPY so that the server discards everything sent.
    public func abortCopy(reason: String) {
        try? endCopy(failure: reason)
    }

    private func endCopy(failure: String?) throws(PostgresError) {
        guard PQputCopyEnd(connection, failure) == 1 else {
            throw PostgresError(.connection, "COPY not ended: \(Self.text(PQerrorMessage(connection)))")
        }
        var firstError: PostgresError?
        while let result = PQgetResult(connection) {
            defer { PQclear(result) }
            if failure == nil, firstError == nil {
                do { try check(result, sql: "COPY") } catch { firstError = error }
            }
        }
        if let firstError { throw firstError }
    }

    private func check(_ result: OpaquePointer?, sql: String) throws(PostgresError) {
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            let state = result.flatMap { PQresultErrorField($0, Int32(UInt8(ascii: "C"))) }.map { String(cString: $0) } ?? ""
            let message = result.map { Self.text(PQresultErrorMessage($0)) } ?? Self.text(PQerrorMessage(connection))
            throw PostgresError(.statement(sqlState: state), "\(message) (in: \(sql.prefix(120)))")
        }
    }

    private func withCStrings<R>(_ values: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
        let copies: [UnsafeMutablePointer<CChar>?] = values.map { $0.map { strdup($0) } ?? nil }
        defer { copies.forEach { free($0) } }
        return body(copies.map { $0.map { UnsafePointer($0) } })
    }

    private static func text(_ pointer: UnsafePointer<CChar>?) -> String {
        pointer.map { String(cString: $0).trimmingTrailingNewlines() } ?? ""
    }

    private static func text(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
        text(UnsafePointer(pointer))
    }

    /// The URL without its password, for error messages.
    static func redacted(_ url: String) -> String { ConnectionURL.redacted(url) }
}

/// What went wrong talking to PostgreSQL.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The server could not be reached or refused the login: check DATABASE_URL and `scripts/stack status`.
        case connection
        /// A statement failed; `sqlState` is PostgreSQL's SQLSTATE (e.g. 23505 unique violation).
        case statement(sqlState: String)
    }

    public var kind: Kind
    public var message: String

    init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

extension String {
    fileprivate func trimmingTrailingNewlines() -> String {
        var text = self
        while text.last == "\n" { text.removeLast() }
        return text
    }
}

#if canImport(Glibc)
#endif
