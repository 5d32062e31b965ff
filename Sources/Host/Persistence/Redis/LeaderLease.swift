import HostCore

/// Leadership of one role among its processes: a Redis key set with
/// `SET NX PX` and renewed by its holder. `hold()` is called before each
/// piece of leader work; when it answers false (lost, or another holds it)
/// the work is skipped at once.
public struct LeaderLease: Sendable {
    let redis: ConnectionPool<RedisConnection>
    let key: String
    let holder: String
    let ttlMs: Int64

    /// The lease of `role` (e.g. "discoverer") under the pipeline's key prefix (`DeliveryState.prefix(for:)`).
    public init(redis: ConnectionPool<RedisConnection>, prefix: String, role: String, holder: String, ttlMs: Int64) {
        self.redis = redis
        key = Self.key(prefix: prefix, role: role)
        self.holder = holder
        self.ttlMs = ttlMs
    }

    /// The lease's key: its holder's name is its value (an operator, or a fault run, asks who leads).
    public static func key(prefix: String, role: String) -> String { prefix + "leader:" + role }

    /// Takes or renews the lease; false when another process holds it or Redis is away.
    public func hold() async -> Bool {
        let key = self.key, holder = self.holder, ttl = String(ttlMs)
        do {
            let reply = try await redis.withConnection { redis in
                try redis.evaluate(Self.script, keys: [key], arguments: [holder, ttl])
            }
            return reply.integer == 1
        } catch {
            return false
        }
    }

    /// Gives the lease up (on shutdown), only if still ours.
    public func release() async {
        let key = self.key, holder = self.holder
        _ = try? await redis.withConnection { redis in try redis.evaluate(Self.releaseScript, keys: [key], arguments: [holder]) }
    }

    static let script = RedisScript("""
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          redis.call('PEXPIRE', KEYS[1], ARGV[2]); return 1
        end
        if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
        return 0
        """)

    static let releaseScript = RedisScript("""
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """)
}
