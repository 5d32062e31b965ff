import HostCore
import Logging
import Storage

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
        let now = Int(WallClock.nowMilliseconds)
        do {
            let reply = try await pool.withConnection { redis in
                try redis.command(["EVAL", Self.countScript, "1", key, String(now), String(windowMilliseconds)])
            }
            guard let count = reply.integer else {
                logger.warning("rate limiter: unexpected reply; request refused", metadata: ["reply": "\(reply)"])
                throw Self.unavailable
            }
            return count
        } catch let refusal as APIError {
            throw refusal
        } catch {
            logger.warning("rate limiter unavailable; request refused", metadata: ["error": "\(error)"])
            throw Self.unavailable
        }
    }

    /// Admits one request under `key`. When Redis cannot be reached the request is refused (503, Retry-After):
    /// a limiter that let everything through while its store is down would be no limit exactly when one
    /// flood has taken the store down.
    package func admit(_ key: String, limit: Int, windowMilliseconds: Int) async throws(APIError) -> Decision {
        // Wall-clock time: the window must mean the same on every API process.
        let now = Int(WallClock.nowMilliseconds)
        let member = "\(now)-\(UInt64.random(in: 0...UInt64.max))"
        do {
            let reply = try await pool.withConnection { redis in
                try redis.command(["EVAL", Self.script, "1", key, String(now), String(windowMilliseconds), String(limit), member])
            }
            guard case .array(let values) = reply, values.count == 3, let allowed = values[0].integer,
                  let remaining = values[1].integer, let retry = values[2].integer else {
                logger.warning("rate limiter: unexpected reply; request refused", metadata: ["reply": "\(reply)"])
                throw Self.unavailable
            }
            return Decision(allowed: allowed == 1, remaining: remaining, retryAfterMilliseconds: max(retry, 0))
        } catch let refusal as APIError {
            throw refusal
        } catch {
            logger.warning("rate limiter unavailable; request refused", metadata: ["error": "\(error)"])
            throw Self.unavailable
        }
    }
}
