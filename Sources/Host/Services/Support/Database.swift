import Analytics
import Domain
import HostCore
import Logging
import NIOPosix
import Persistence

/// The services' PostgreSQL: a pool of libpq connections whose calls run on the
/// storage threads. Storage errors become API errors here, once: an
/// unreachable database is 503, as is a deadlock or serialization failure (retry),
/// a unique violation the caller names is 409,
/// anything else is logged and answered 500 without internals.
package struct Database: Sendable {
    package let pool: ConnectionPool<PostgresConnection>
    package let logger: Logger

    package init(pool: ConnectionPool<PostgresConnection>, logger: Logger) {
        self.pool = pool
        self.logger = logger
    }

    /// A pool of `capacity` connections to `url`, each reading timestamps in UTC, whose blocking calls run on `threads`.
    package init(url: String, capacity: Int, threads: NIOThreadPool, waitLimitMs: Int?, logger: Logger) {
        self.init(pool: StorePools.postgres(url: url, capacity: capacity, threads: threads, waitLimitMs: waitLimitMs), logger: logger)
    }

    /// `body` on one connection inside a transaction; an `APIError` it throws rolls back and passes through.
    package func transaction<T: Sendable>(conflict: String? = nil,
                                  _ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws(APIError) -> T {
        try await run(conflict: conflict) { connection in try connection.inTransaction { try body(connection) } }
    }

    package func run<T: Sendable>(conflict: String? = nil, _ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws(APIError) -> T {
        do {
            return try await pool.withConnection(body)
        } catch {
            throw translate(error, conflict: conflict)
        }
    }

    /// Storage failures in the API's vocabulary; `conflict` is the message for a unique violation.
    package func translate(_ error: any Error, conflict: String? = nil) -> APIError {
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
