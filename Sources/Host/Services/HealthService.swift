import Messaging
import NIOPosix
import Persistence
import Synchronization

/// Whether the servers the API needs answer now. Every probe uses a long-lived connection (the pools', and one
/// kept NATS connection).
package struct HealthService: Sendable {
    let database: Database
    let redis: ConnectionPool<RedisConnection>
    let nats: ReadinessNATS
    let threads: NIOThreadPool

    package init(database: Database, redis: ConnectionPool<RedisConnection>, natsURL: String, threads: NIOThreadPool) {
        self.database = database
        self.redis = redis
        nats = ReadinessNATS(url: natsURL)
        self.threads = threads
    }

    package func postgres() async throws { try await database.pool.withConnection { db in try PostgresProbe.ping(db) } }
    package func redisAnswers() async throws { try await redis.withConnection { redis in try RedisProbe.ping(redis) } }
    package func natsAnswers() async throws {
        let nats = self.nats
        try await threads.runIfActive { try nats.ping() }
    }
}

/// The readiness probe's NATS connection: made once and kept, made again only after it failed.
final class ReadinessNATS: Sendable {
    private let url: String
    private let connection = Mutex<NATSConnection?>(nil)

    init(url: String) { self.url = url }

    /// A PING round trip; blocking, so on a storage thread.
    func ping() throws {
        try connection.withLock { kept in
            let current = try kept ?? NATSConnection(url: url, timeoutMs: 1_000)
            kept = current
            do { try current.ping() } catch {
                kept = nil
                throw error
            }
        }
    }
}
