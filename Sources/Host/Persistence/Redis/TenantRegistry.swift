import Domain
import HostCore

/// Which tenants have chunk jobs queued, so that senders serve each one's own consumer in turn instead
/// of one queue first come, first served (a tenant's million would hold another's ten for an hour).
/// A tenant is announced (a sorted set in Redis, scored by the last announcement, and its consumer
/// created) before its chunks are published; the background role removes the consumer of a tenant
/// idle for `idleMs` whose queue is empty.
public struct TenantRegistry: Sendable {
    let redis: ConnectionPool<RedisConnection>
    let key: String

    public init(redis: ConnectionPool<RedisConnection>, prefix: String) {
        self.redis = redis
        key = prefix + "tenants"
    }

    /// Marks the tenants as having work now.
    public func announce(_ userIDs: [String], nowMs: Int64) async throws {
        guard !userIDs.isEmpty else { return }
        let key = self.key
        _ = try await redis.withConnection { redis in
            try redis.command(["ZADD", key] + userIDs.flatMap { [String(nowMs), $0] })
        }
    }

    /// Every announced tenant, with when it was last announced (Unix ms).
    public func all() async throws -> [(userID: String, announcedMs: Int64)] {
        let key = self.key
        let items = try await redis.withConnection { redis in try redis.command(["ZRANGE", key, "0", "-1", "WITHSCORES"]) }.array
        return stride(from: 0, to: items.count - 1, by: 2).compactMap { index in
            guard let id = items[index].string, let score = items[index + 1].string.flatMap({ Double($0) }) else { return nil }
            return (id, Int64(score))
        }
    }

    /// Forgets a tenant only if it was not announced again since `announcedMs` (a new batch wins).
    public func forget(_ userID: String, ifAnnouncedAt announcedMs: Int64) async throws -> Bool {
        let key = self.key
        let reply = try await redis.withConnection { redis in
            try redis.evaluate(Self.forgetScript, keys: [key], arguments: [userID, String(announcedMs)])
        }
        return reply.integer == 1
    }

    static let forgetScript = RedisScript("""
        local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
        if score and tonumber(score) == tonumber(ARGV[2]) then return redis.call('ZREM', KEYS[1], ARGV[1]) end
        return 0
        """)
}
