import NIOPosix

/// The one way a process opens its pools: every PostgreSQL connection reads timestamps in UTC (as every API
/// answer gives them), each pool's blocking calls run on `threads`, and a pool with a wait limit answers
/// `ConnectionPoolBusy` rather than queueing without end.
public enum StorePools {
    /// `statementTimeoutMs` ends a statement stuck behind a lock or a dead server, freeing its connection.
    public static func postgres(url: String, capacity: Int, threads: NIOThreadPool, waitLimitMs: Int? = nil,
                                statementTimeoutMs: Int? = nil) -> ConnectionPool<PostgresConnection> {
        ConnectionPool(capacity: capacity, threads: threads, waitLimitMs: waitLimitMs, isHealthy: { $0.isHealthy }) {
            let connection = try PostgresConnection.utc(url: url)
            if let statementTimeoutMs { try connection.execute("SET statement_timeout = \(statementTimeoutMs)") }
            return connection
        }
    }

    public static func redis(url: String, capacity: Int, threads: NIOThreadPool, waitLimitMs: Int? = nil) -> ConnectionPool<RedisConnection> {
        ConnectionPool(capacity: capacity, threads: threads, waitLimitMs: waitLimitMs, isHealthy: { $0.isHealthy }) {
            try RedisConnection(url: url)
        }
    }
}
