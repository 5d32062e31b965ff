import Domain
import HostCore

/// Token buckets in Redis that pace sending: the whole deployment, each managed provider account, each
/// send-config. A chunk asks every level it passes through at once, in one script call (the calls of a
/// round travel in one round trip), and gets what all of them can give now.
///
/// Limits are messages per second, except a provider's declared rate in requests, whose tokens stand for one
/// request of up to its max batch each. A bucket holds a twelfth of a second's worth (one token at least),
/// so no one-second window of grants carries more than 1.08 × the limit; the margin to 1.1 × absorbs
/// the spread of request latencies on the way to the provider, where the limit is counted.
///
/// A chunk that got less than it asked for is given an appointment: the time when half a bucket will
/// be there for it, after the appointments its tenant was already given on that level. Waiting chunks
/// then come back one after another, each to tokens, instead of all at once to an empty bucket; the
/// other half is slack for a chunk that comes back late (a redelivery, a round in progress), so that
/// lateness does not let the bucket fill and waste what it refills.
///
/// Each tenant has its own line of appointments on a level, and with n tenants waiting on it a tenant's
/// appointments are n half-buckets apart: the lines together still come back at the level's rate, and a
/// tenant that starts waiting is served next to the others, not after the whole backlog of the one that
/// waited first (one line for all made ten recipients wait out 200,000 on a shared system or managed
/// bucket). Appointments only say when to come back; what a chunk gets is the tokens there then, so a
/// limit holds whatever the lines are.
///
/// The live limits are a Redis hash the admin API writes (`system`, `provider:<id>`, `config:<id>`), read on
/// every call, so a change acts on the next chunk in every process.
public struct RateBuckets: Sendable {
    public let redis: ConnectionPool<RedisConnection>
    public let prefix: String
    public let limits: SendRateLimits

    public init(redis: ConnectionPool<RedisConnection>, keyPrefix: String, limits: SendRateLimits) {
        self.redis = redis
        prefix = keyPrefix + "limits:"
        self.limits = limits
    }

    /// The hash of live overrides.
    public var overridesKey: String { prefix + "overrides" }

    /// One bucket a chunk passes through: its key, the override field, and the limit when none is set (0: no
    /// limit) with the messages each of its tokens stands for (an override counts messages).
    public struct Level: Sendable, Equatable {
        public var bucket: String
        public var field: String
        public var fallback: Int
        public var perToken: Int = 1

        /// The last appointment of each tenant waiting on this level (a sorted set scored by its time).
        public var lines: String { bucket + ":lines" }
    }

    /// A chunk's ask: the levels it passes, how many messages it wants, and its tenant, whose line of
    /// appointments it joins if it must wait.
    public struct Request: Sendable {
        public var levels: [Level]
        public var wanted: Int
        public var tenant: String

        public init(levels: [Level], wanted: Int, tenant: String) {
            self.levels = levels
            self.wanted = wanted
            self.tenant = tenant
        }
    }

    /// What a chunk may send now, and when to come back for the rest.
    public struct Grant: Sendable, Equatable {
        public var granted: Int
        public var waitMs: Int64

        public init(granted: Int, waitMs: Int64) {
            self.granted = granted
            self.waitMs = waitMs
        }
    }

    public static func systemField() -> String { "system" }
    public static func providerField(_ provider: String) -> String { "provider:\(provider)" }
    public static func configField(_ sendConfigID: String) -> String { "config:\(sendConfigID)" }
    /// The send-config an override field names; nil for the system's and the providers' fields.
    public static func sendConfigID(ofField field: String) -> String? {
        field.hasPrefix("config:") ? String(field.dropFirst("config:".count)) : nil
    }

    /// The buckets a send-config's messages pass (`RateLimitPlan` decides which, and their rates).
    public func levels(sendConfigID: String, provider: String, managed: Bool, rateLimit: Int?) -> [Level] {
        RateLimitPlan.levels(sendConfigID: sendConfigID, provider: provider, managed: managed, rateLimit: rateLimit, limits: limits).map { level in
            switch level.scope {
            case .system: Level(bucket: prefix + "b:system", field: Self.systemField(), fallback: level.fallback, perToken: level.perToken)
            case .provider(let id): Level(bucket: prefix + "b:p:" + id, field: Self.providerField(id), fallback: level.fallback, perToken: level.perToken)
            case .config(let id): Level(bucket: prefix + "b:c:" + id, field: Self.configField(id), fallback: level.fallback, perToken: level.perToken)
            }
        }
    }

    /// Takes up to `wanted` tokens from every level of each request; one round trip for them all.
    public func take(_ requests: [Request]) async throws -> [Grant] {
        // A request that passes no level (every limit off, or a send-config that is gone) has nothing to ask Redis.
        let asked = requests.enumerated().filter { $0.element.wanted > 0 && !$0.element.levels.isEmpty }
        var grants = requests.map { Grant(granted: $0.wanted, waitMs: 0) }
        guard !asked.isEmpty else { return grants }
        let calls = asked.map { _, request in
            (keys: [overridesKey] + request.levels.flatMap { [$0.bucket, $0.lines] },
             arguments: [String(request.wanted), request.tenant] + request.levels.flatMap { [$0.field, String($0.fallback), String($0.perToken)] })
        }
        let replies = try await redis.withConnection { redis in try redis.evaluateAll(Self.takeScript, calls: calls) }
        for ((index, _), reply) in zip(asked, replies) {
            let values = reply.array
            grants[index] = Grant(granted: values.first?.integer ?? 0, waitMs: Int64(values.dropFirst().first?.integer ?? 1_000))
        }
        return grants
    }

    /// The live overrides (field → messages/s).
    public func overrides() async throws -> [String: Int] {
        let reply = try await redis.withConnection { redis in try redis.command(["HGETALL", overridesKey]) }
        var result: [String: Int] = [:]
        let items = reply.array
        for index in stride(from: 0, to: items.count - 1, by: 2) {
            if let field = items[index].string, let value = items[index + 1].string.flatMap({ Int($0) }) { result[field] = value }
        }
        return result
    }

    /// Sets (or, with nil, removes) live overrides, all in one round trip.
    public func setOverrides(_ changes: [String: Int?]) async throws {
        guard !changes.isEmpty else { return }
        let key = overridesKey
        let commands = changes.sorted { $0.key < $1.key }.map { field, limit in
            limit.map { ["HSET", key, field, String($0)] } ?? ["HDEL", key, field]
        }
        _ = try await redis.withConnection { redis in try redis.pipeline(commands) }
    }

    /// Replaces every live override with `stored`, in one transaction, so that no sender reads a half-written set.
    public func replaceOverrides(_ stored: [String: Int]) async throws {
        let key = overridesKey
        var commands: [[String]] = [["MULTI"], ["DEL", key]]
        if !stored.isEmpty { commands.append(["HSET", key] + stored.sorted { $0.key < $1.key }.flatMap { [$0.key, String($0.value)] }) }
        commands.append(["EXEC"])
        let transaction = commands
        _ = try await redis.withConnection { redis in try redis.pipeline(transaction) }
    }

    static let takeScript = RedisScript("""
        -- Redis's clock, not the callers': every process paces against the same time.
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
        local wanted = tonumber(ARGV[1])
        local tenant = ARGV[2]
        local levels = {}
        local available = wanted
        for j = 1, (#KEYS - 1) / 2 do
          local field, fallback, per = ARGV[3 * j], tonumber(ARGV[3 * j + 1]), tonumber(ARGV[3 * j + 2]) or 1
          -- An override is in messages; the fallback in its own unit (`per` messages a token).
          local override = redis.call('HGET', KEYS[1], field)
          if override then per = 1 end
          local limit = tonumber(override or fallback) or 0
          if limit > 0 then
            local key = KEYS[2 * j]
            local state = redis.call('HMGET', key, 't', 'ts')
            local capacity = math.max(1, limit / 12)
            local tokens = tonumber(state[1]) or capacity
            local since = math.max(0, now - (tonumber(state[2]) or now))
            tokens = math.min(capacity, tokens + since * limit / 1000)
            levels[#levels + 1] = { key = key, lines = KEYS[2 * j + 1], limit = limit, capacity = capacity, tokens = tokens, per = per }
            available = math.min(available, math.floor(tokens) * per)
          end
        end
        local granted = math.max(0, available)
        local rest = wanted - granted
        local wait = 0
        for _, level in ipairs(levels) do
          level.tokens = level.tokens - math.ceil(granted / level.per)
          if rest > 0 then
            local need = math.min(math.ceil(rest / level.per), math.max(1, math.floor(level.capacity / 2)))
            if level.tokens < need then
              -- The appointment: when this level has `need` again, after the tenant's own appointments, which
              -- are as far apart as there are tenants waiting here (a line whose last appointment is past waits no more).
              redis.call('ZREMRANGEBYSCORE', level.lines, '-inf', now)
              local last = tonumber(redis.call('ZSCORE', level.lines, tenant))
              local waiting = redis.call('ZCARD', level.lines) + (last and 0 or 1)
              local ready = now + (need - level.tokens) * 1000 / level.limit
              local at = math.max(ready, (last or 0) + waiting * need * 1000 / level.limit)
              redis.call('ZADD', level.lines, tostring(at), tenant)
              redis.call('PEXPIRE', level.lines, math.max(redis.call('PTTL', level.lines), math.ceil(at - now) + 60000))
              wait = math.max(wait, at - now)
            end
          end
          redis.call('HSET', level.key, 't', tostring(level.tokens), 'ts', tostring(now))
          redis.call('PEXPIRE', level.key, 60000)
        end
        return { granted, math.ceil(wait) }
        """)
}
