import Analytics
import Domain
import HostCore
import Logging
import Persistence

/// The API's PostgreSQL: a pool of libpq connections whose calls run on the
/// storage threads. Storage errors become API errors here, once: an
/// unreachable database is 503, as is a deadlock or serialization failure (retry),
/// a unique violation the caller names is 409,
/// anything else is logged and answered 500 without internals.
struct Database: Sendable {
    let pool: ConnectionPool<PostgresConnection>
    let logger: Logger

    /// One statement's rows (text, nil for NULL).
    func rows(_ sql: String, _ parameters: [String?] = [], conflict: String? = nil) async throws(APIError) -> [[String?]] {
        try await run(conflict: conflict) { connection in try connection.query(sql, parameters) }
    }

    /// The first column of the first row, or nil when there is no row.
    func value(_ sql: String, _ parameters: [String?] = [], conflict: String? = nil) async throws(APIError) -> String? {
        try await rows(sql, parameters, conflict: conflict).first?.first ?? nil
    }

    /// `body` on one connection inside a transaction; an `APIError` it throws rolls back and passes through.
    func transaction<T: Sendable>(conflict: String? = nil,
                                  _ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws(APIError) -> T {
        try await run(conflict: conflict) { connection in
            try connection.execute("BEGIN")
            do {
                let value = try body(connection)
                try connection.execute("COMMIT")
                return value
            } catch {
                try? connection.execute("ROLLBACK")
                throw error
            }
        }
    }

    func run<T: Sendable>(conflict: String? = nil, _ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws(APIError) -> T {
        do {
            return try await pool.withConnection(body)
        } catch {
            throw translate(error, conflict: conflict)
        }
    }

    /// Storage failures in the API's vocabulary; `conflict` is the message for a unique violation.
    func translate(_ error: any Error, conflict: String? = nil) -> APIError {
        if let error = error as? APIError { return error }
        if error is ConnectionPoolBusy {
            logger.warning("request refused: every database connection is held", metadata: ["error": "\(error)"])
            return APIError.busy()
        }
        if let error = error as? PostgresError {
            switch error.kind {
            case .connection:
                logger.error("database unreachable", metadata: ["error": "\(error.message)"])
                return APIError.unavailable("the database is unreachable; retry shortly")
            case .statement(let state) where state == "23505" && conflict != nil:
                return APIError.conflict(conflict!)
            case .statement(let state) where state == "40P01" || state == "40001":
                // Nothing was stored; the same request can simply be sent again.
                logger.warning("transaction aborted by the database to resolve contention", metadata: ["error": "\(error.message)"])
                return APIError.unavailable("the database aborted this request to resolve contention with another; nothing was stored, retry it")
            case .statement:
                break
            }
        }
        logger.error("database statement failed", metadata: ["error": "\(error)"])
        return APIError.internal()
    }
}
