import HostCore

/// What the webhook processor remembers between rounds, in Redis: which events it applied (by digest, for
/// `dedupeTTLSeconds`, longer than any provider retries), how often each stored webhook was refused and
/// when it was first found waiting for its message (by its stream sequence, a number, so the key is
/// bounded whatever the webhook holds).
public struct WebhookMemory: Sendable {
    let redis: ConnectionPool<RedisConnection>
    let prefix: String

    /// `prefix` is the pipeline's (DeliveryState.prefix(for:)).
    public init(redis: ConnectionPool<RedisConnection>, prefix: String) {
        self.redis = redis
        self.prefix = prefix
    }

    /// For each digest, whether its event was applied before: one MGET.
    public func applied(_ digests: [String]) async throws -> [Bool] {
        guard !digests.isEmpty else { return [] }
        let keys = digests.map(seenKey)
        return try await redis.withConnection { redis in try redis.command(["MGET"] + keys).array.map { $0 != .null } }
    }

    /// Remembers the digests' events as applied.
    public func rememberApplied(_ digests: [String], ttlSeconds: Int) async throws {
        guard !digests.isEmpty else { return }
        let ttl = String(ttlSeconds), keys = digests.map(seenKey)
        _ = try await redis.withConnection { redis in try redis.pipeline(keys.map { ["SET", $0, "1", "EX", ttl] }) }
    }

    /// Counts one more refusal of each stored webhook (by stream sequence) and returns the counts, this one
    /// included; nil for a sequence whose count Redis did not answer.
    public func countRefusals(_ sequences: [UInt64], ttlSeconds: Int) async throws -> [UInt64?] {
        guard !sequences.isEmpty else { return [] }
        let ttl = String(ttlSeconds), keys = sequences.map(refusalKey)
        let replies = try await redis.withConnection { redis in
            try redis.pipeline(keys.flatMap { [["INCR", $0], ["EXPIRE", $0, ttl]] })
        }
        return sequences.indices.map { index in
            guard replies.indices.contains(2 * index), let count = replies[2 * index].integer, count > 0 else { return nil }
            return UInt64(count)
        }
    }

    /// When each stored webhook (by stream sequence) was first found naming a message not known yet: `nowMs`
    /// for one not seen missing before. The time survives redeliveries (the message cannot carry it: a nak
    /// redelivers it unchanged); nil for a sequence whose time Redis did not answer.
    public func firstMisses(_ sequences: [UInt64], nowMs: Int64, ttlSeconds: Int) async throws -> [Int64?] {
        guard !sequences.isEmpty else { return [] }
        let now = String(nowMs), ttl = String(ttlSeconds), keys = sequences.map(missKey)
        let replies = try await redis.withConnection { redis in
            try redis.pipeline(keys.flatMap { [["SET", $0, now, "NX", "EX", ttl], ["GET", $0]] })
        }
        return sequences.indices.map { index in
            guard replies.indices.contains(2 * index + 1) else { return nil }
            return replies[2 * index + 1].string.flatMap { Int64($0) }
        }
    }

    func seenKey(_ digest: String) -> String { "\(prefix)wh:\(digest)" }
    func refusalKey(_ sequence: UInt64) -> String { "\(prefix)wh:refused:\(sequence)" }
    /// Where a stored webhook's first miss is kept (public for the tests that watch it).
    public func missKey(_ sequence: UInt64) -> String { "\(prefix)wh:missed:\(sequence)" }
}
