/// Sliding windows of requests kept in Redis, so that every API and dashboard process shares them: each
/// admitted request is a member of a sorted set scored by its time; members older than the window are
/// dropped before counting. The check and the insert are one Lua script, so concurrent requests cannot both
/// take the last slot. Also gates: one thing at a time for a key across every process.
public struct RequestWindows: Sendable {
    public let redis: ConnectionPool<RedisConnection>
    /// The deployment's `[api] redis_key_prefix`.
    public let prefix: String

    public init(redis: ConnectionPool<RedisConnection>, prefix: String) {
        self.redis = redis
        self.prefix = prefix
    }

    /// What a window counts.
    public enum Window: Sendable, Equatable {
        /// API requests from one client address (its limit key: an IPv6 client by its /64).
        case address(String)
        /// API requests with one API key.
        case apiKey(String)
        /// Dashboard sign-in and registration tries from one client.
        case signInClient(String)
        /// Sign-in tries for one email (by its digest) from one client.
        case signInEmail(digest: String, client: String)
        /// Failed sign-ins for one email (by its digest) from anywhere.
        case signInFailures(digest: String)
    }

    /// The window's Redis key.
    public func key(_ window: Window) -> String {
        switch window {
        case .address(let client): prefix + "ratelimit:addr:" + client
        case .apiKey(let id): prefix + "ratelimit:key:" + id
        case .signInClient(let client): prefix + "web:login:client:" + client
        case .signInEmail(let digest, let client): prefix + "web:login:address:" + digest + ":client:" + client
        case .signInFailures(let digest): prefix + "web:login:failures:" + digest
        }
    }

    /// The gate of sign-in checks for one email (by its digest) from one client.
    public func signInGate(digest: String, client: String) -> String { prefix + "web:login:gate:" + digest + ":client:" + client }

    public struct Decision: Sendable, Equatable {
        public var allowed: Bool
        public var remaining: Int
        public var retryAfterMilliseconds: Int
    }

    /// A reply of a shape the scripts never give.
    public struct UnexpectedReply: Error, CustomStringConvertible {
        public var description: String
    }

    static let admitScript = """
        local now = tonumber(ARGV[1])
        local window = tonumber(ARGV[2])
        local limit = tonumber(ARGV[3])
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
        local count = redis.call('ZCARD', KEYS[1])
        if count >= limit then
          local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
          return {0, 0, tonumber(oldest[2]) + window - now}
        end
        redis.call('ZADD', KEYS[1], now, ARGV[4])
        redis.call('PEXPIRE', KEYS[1], window)
        return {1, limit - count - 1, 0}
        """

    static let countScript = """
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
        return redis.call('ZCARD', KEYS[1])
        """

    /// Admits one request in `window` at `nowMs` (wall-clock: the window must mean the same on every process).
    public func admit(_ window: Window, limit: Int, windowMilliseconds: Int, nowMs: Int) async throws -> Decision {
        let member = "\(nowMs)-\(UInt64.random(in: 0...UInt64.max))"
        let reply = try await evaluate(["EVAL", Self.admitScript, "1", key(window), String(nowMs), String(windowMilliseconds), String(limit), member])
        guard case .array(let values) = reply, values.count == 3, let allowed = values[0].integer,
              let remaining = values[1].integer, let retry = values[2].integer else {
            throw UnexpectedReply(description: "\(reply)")
        }
        return Decision(allowed: allowed == 1, remaining: remaining, retryAfterMilliseconds: max(retry, 0))
    }

    /// How many requests `window` admitted, without counting one more.
    public func count(_ window: Window, windowMilliseconds: Int, nowMs: Int) async throws -> Int {
        let reply = try await evaluate(["EVAL", Self.countScript, "1", key(window), String(nowMs), String(windowMilliseconds)])
        guard let count = reply.integer else { throw UnexpectedReply(description: "\(reply)") }
        return count
    }

    static let holdScript = """
        if redis.call('SET', KEYS[1], ARGV[2], 'NX', 'PX', ARGV[1]) then return -1 end
        return redis.call('PTTL', KEYS[1])
        """

    static let releaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """

    /// A gate held: what `release` needs to open it again, and no other holder's.
    public struct Hold: Sendable {
        let key: String
        let token: String
    }

    public enum Gate: Sendable {
        case held(Hold)
        /// Another holds it, for at most this many more milliseconds.
        case busy(milliseconds: Int)
    }

    /// Takes the gate `key` (from `signInGate`) for at most `milliseconds` when no one holds it. It opens at
    /// `release`, or by itself when its holder died.
    public func hold(_ key: String, milliseconds: Int) async throws -> Gate {
        let token = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let reply = try await evaluate(["EVAL", Self.holdScript, "1", key, String(max(1, milliseconds)), token])
        guard let left = reply.integer else { throw UnexpectedReply(description: "\(reply)") }
        // -1: taken now. -2 (gone between SET and PTTL) or 0: free again; the caller's retry takes it.
        return left == -1 ? .held(Hold(key: key, token: token)) : .busy(milliseconds: max(left, 1))
    }

    /// Opens a gate this caller holds; one that expired and was taken by another stays theirs.
    public func release(_ hold: Hold) async throws {
        _ = try await evaluate(["EVAL", Self.releaseScript, "1", hold.key, hold.token])
    }

    private func evaluate(_ command: [String]) async throws -> RedisReply {
        try await redis.withConnection { redis in try redis.command(command) }
    }
}
