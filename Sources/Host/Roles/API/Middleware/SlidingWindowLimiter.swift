import Analytics
import Domain
import HostCore
import Logging
import Persistence
import ProviderInstances

/// A sliding-window rate limit kept in Redis, so that every API process
/// shares it: each admitted request is a member of a sorted set scored by
/// its time; members older than the window are dropped before counting.
/// The check and the insert are one Lua script, so concurrent requests
/// cannot both take the last slot.
package struct SlidingWindowLimiter: Sendable {
    let pool: ConnectionPool<RedisConnection>
    let logger: Logger

    package init(pool: ConnectionPool<RedisConnection>, logger: Logger) {
        self.pool = pool
        self.logger = logger
    }

    package struct Decision: Sendable {
        package var allowed: Bool
        package var remaining: Int
        package var retryAfterMilliseconds: Int
    }

    static var unavailable: APIError {
        var error = APIError.unavailable("requests cannot be counted now (the rate limiter's store is unreachable); nothing was done, retry shortly")
        error.headers = [(.retryAfter, "2")]
        return error
    }

    static let script = """
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

    /// How many requests `key` admitted in the window, without counting one more. Refused (503) like
    /// `admit` when Redis cannot be reached.
    package func count(_ key: String, windowMilliseconds: Int) async throws(APIError) -> Int {
        let now = Int(SystemClock.nowMilliseconds)
        let reply = try await evaluate(["EVAL", Self.countScript, "1", key, String(now), String(windowMilliseconds)])
        guard let count = reply.integer else { throw unexpected(reply) }
        return count
    }

    /// Admits one request under `key`. When Redis cannot be reached the request is refused (503, Retry-After):
    /// a limiter that let everything through while its store is down would be no limit exactly when one
    /// flood has taken the store down.
    package func admit(_ key: String, limit: Int, windowMilliseconds: Int) async throws(APIError) -> Decision {
        // Wall-clock time: the window must mean the same on every API process.
        let now = Int(SystemClock.nowMilliseconds)
        let member = "\(now)-\(UInt64.random(in: 0...UInt64.max))"
        let reply = try await evaluate(["EVAL", Self.script, "1", key, String(now), String(windowMilliseconds), String(limit), member])
        guard case .array(let values) = reply, values.count == 3, let allowed = values[0].integer,
              let remaining = values[1].integer, let retry = values[2].integer else {
            throw unexpected(reply)
        }
        return Decision(allowed: allowed == 1, remaining: remaining, retryAfterMilliseconds: max(retry, 0))
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
    package struct Hold: Sendable {
        let key: String
        let token: String
    }

    /// Takes the gate `key` for at most `milliseconds` when no one holds it. A gate lets one thing happen at
    /// a time for a key across every process; it opens at `release`, or by itself when its holder died.
    package enum Gate: Sendable {
        case held(Hold)
        /// Another holds it, for at most this many more milliseconds.
        case busy(milliseconds: Int)
    }

    package func hold(_ key: String, milliseconds: Int) async throws(APIError) -> Gate {
        let token = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let reply = try await evaluate(["EVAL", Self.holdScript, "1", key, String(max(1, milliseconds)), token])
        guard let left = reply.integer else { throw unexpected(reply) }
        // -1: taken now. -2 (gone between SET and PTTL) or 0: free again; the caller's retry takes it.
        return left == -1 ? .held(Hold(key: key, token: token)) : .busy(milliseconds: max(left, 1))
    }

    /// Opens a gate this caller holds; one that expired and was taken by another stays theirs.
    package func release(_ hold: Hold) async throws(APIError) {
        _ = try await evaluate(["EVAL", Self.releaseScript, "1", hold.key, hold.token])
    }

    /// One script run; a store that cannot be reached is the 503 both `count` and `admit` answer.
    private func evaluate(_ command: [String]) async throws(APIError) -> RedisReply {
        do {
            return try await pool.withConnection { redis in try redis.command(command) }
        } catch {
            logger.warning("rate limiter unavailable; request refused", metadata: ["error": "\(error)"])
            throw Self.unavailable
        }
    }

    /// A reply of a shape the script never gives: refused as an unreachable store is, and logged.
    private func unexpected(_ reply: RedisReply) -> APIError {
        logger.warning("rate limiter: unexpected reply; request refused", metadata: ["reply": "\(reply)"])
        return Self.unavailable
    }
}
