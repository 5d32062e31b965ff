import Domain
import HostCore

/// The pipeline's hot state in Redis: per batch, which recipients are done
/// (the truth of "already sent"), which are claimed by a worker right now,
/// how many attempts each used, which request a recipient must be sent in
/// again, the counters, and the cancel flag. Every
/// operation is one script call per chunk, and the calls of many chunks
/// travel in one pipelined round trip.
public struct DeliveryState: Sendable {
    public let redis: ConnectionPool<RedisConnection>
    public let prefix: String

    /// The pipeline's keys under the deployment's Redis key prefix.
    public static func prefix(for keyPrefix: String) -> String { keyPrefix + "pipeline:" }

    public init(redis: ConnectionPool<RedisConnection>, prefix: String) {
        self.redis = redis
        self.prefix = prefix
    }

    struct Keys {
        var done, claim, attempts, counters, cancel, groups, seal, pause: String
        var all: [String] { [done, claim, attempts, counters, cancel, groups, seal, pause] }
    }

    func keys(_ batchID: String) -> Keys {
        let base = "\(prefix)b:\(batchID):"
        return Keys(done: base + "done", claim: base + "claim", attempts: base + "att", counters: base + "n", cancel: base + "cancel",
                    groups: base + "grp", seal: base + "live", pause: base + "pause")
    }

    var activeKey: String { prefix + "active" }
    /// The Redis run the hot state is vouched for in (its `run_id` and a stamp, `epochLua`): a batch's seal holds
    /// the epoch its state was complete in, and a Redis that restarted or lost its data has another, so every
    /// batch's state is rebuilt from the rows before a claim of it succeeds again.
    var epochKey: String { prefix + "epoch" }
    /// Batches a claim found unvouched for, and `everything` once the epoch changed: the background role
    /// rebuilds them.
    var lostKey: String { prefix + "lost" }
    /// The member of `lostKey` that says every batch in progress is to be rebuilt (and what else lived only in
    /// Redis put back).
    public static let everything = "*"

    /// What a claim found for one recipient.
    public enum Claim: Sendable, Equatable {
        /// Claimed by this worker: send it. `attempts` is what earlier sends used; `group`, when not empty, the
        /// positions of the request it went out in before (`keepTogether`), which the provider may have taken
        /// without an answer: it is sent again as exactly that request (same members, same order, so the same
        /// idempotency key), never regrouped. `via`: the fallback send-config that request went through (nil for
        /// the batch's own): the request is repeated there, never through another provider.
        case go(attempts: Int, group: [Int] = [], via: String? = nil)
        /// Already has an outcome: never send it again.
        case done(Outcome)
        /// Another worker holds it right now: leave it for a later delivery.
        case busy
        /// The batch was cancelled before this recipient was handed to a provider.
        case cancelled
        /// The batch is paused: not claimed, not sent, nothing used; it is claimed again once resumed.
        case paused
        /// The batch's hot state is not vouched for (Redis restarted or lost data since it was rebuilt): a
        /// recipient sent before may have lost its outcome, so nothing is sent until the background role has
        /// rebuilt the state from the rows.
        case unverified
    }

    /// A recipient's final word, as stored in Redis and written to PostgreSQL.
    public enum Outcome: Sendable, Equatable {
        case sent(providerMessageID: String)
        case failed(reason: String)
        case cancelled
        case suppressed

        var encoded: String {
            switch self {
            case .sent(let id): "s|" + id
            case .failed(let reason): "f|" + reason
            case .cancelled: "c"
            case .suppressed: "x"
            }
        }

        init?(encoded: String) {
            switch encoded.first {
            case "s": self = .sent(providerMessageID: String(encoded.dropFirst(2)))
            case "f": self = .failed(reason: String(encoded.dropFirst(2)))
            case "c": self = .cancelled
            case "x": self = .suppressed
            default: return nil
            }
        }

        public var status: RecipientStatus {
            switch self {
            case .sent: .sent
            case .failed: .failed
            case .cancelled: .cancelled
            case .suppressed: .suppressed
            }
        }
    }

    /// One change to record for a recipient.
    public enum Entry: Sendable {
        /// Its final outcome (counted once, however often it is recorded).
        case final(position: Int, Outcome)
        /// A transient failure: one attempt used, claim released.
        case attemptUsed(position: Int)
        /// Throttled: claim released, no attempt used.
        case released(position: Int)
        /// Not sent after all (the round failed before the send): claim released, nothing counted.
        case unclaimed(position: Int)
    }

    /// Claims the recipients of several chunks, one script call per chunk, one round trip.
    public func claim(_ chunks: [(batchID: String, positions: [Int])], nowMs: Int64, holdMs: Int64) async throws -> [[Claim]] {
        let calls = chunks.map { chunk in
            let k = keys(chunk.batchID)
            return (keys: [k.done, k.claim, k.attempts, k.cancel, k.groups, k.seal, epochKey, lostKey, k.pause],
                    arguments: [String(nowMs), String(holdMs), chunk.batchID] + chunk.positions.map(String.init))
        }
        let replies = try await redis.withConnection { redis in try redis.evaluateAll(Self.claimScript, calls: calls) }
        return replies.map { reply in
            reply.array.map { item -> Claim in
                let text = item.string ?? ""
                switch text.first {
                case "G":
                    // "G<attempts>" or "G<attempts>|<positions of its request>[@<the fallback it went through>]".
                    let parts = text.dropFirst().split(separator: "|", maxSplits: 1)
                    let request = parts.count > 1 ? parts[1].split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false) : []
                    let group = request.first.map { $0.split(separator: ",").compactMap { Int($0) } } ?? []
                    let via = request.count > 1 ? String(request[1]) : nil
                    return .go(attempts: parts.first.flatMap { Int($0) } ?? 0, group: group, via: via)
                case "B": return .busy
                case "C": return .cancelled
                case "P": return .paused
                case "L": return .unverified
                default: return Outcome(encoded: text).map(Claim.done) ?? .busy
                }
            }
        }
    }

    /// Records outcomes of several batches' recipients, one script call per batch, one round trip.
    public func record(_ entries: [String: [Entry]], nowMs: Int64) async throws {
        let calls = entries.filter { !$0.value.isEmpty }.map { batchID, entries in
            let k = keys(batchID)
            var arguments: [String] = []
            arguments.reserveCapacity(entries.count * 3)
            for entry in entries {
                switch entry {
                case .final(let position, let outcome): arguments += ["T", String(position), outcome.encoded]
                case .attemptUsed(let position): arguments += ["R", String(position), ""]
                case .released(let position): arguments += ["W", String(position), ""]
                case .unclaimed(let position): arguments += ["U", String(position), ""]
                }
            }
            return (keys: [k.done, k.claim, k.attempts, k.counters, activeKey, k.groups], arguments: [batchID, String(nowMs)] + arguments)
        }
        _ = try await redis.withConnection { redis in try redis.evaluateAll(Self.recordScript, calls: calls) }
    }

    /// Extends this worker's claims while its round is still in flight: each claim held until one of `from`
    /// (as this worker set it: its last extension, and one whose answer was lost) is held until `to`; one taken
    /// over meanwhile is left to its new holder. One script call per chunk, one round trip.
    public func extend(_ chunks: [(batchID: String, positions: [Int])], from: [Int64], to: Int64) async throws {
        let expected = (from + from).prefix(2).map(String.init)
        let calls = chunks.filter { !$0.positions.isEmpty }.map { chunk in
            (keys: [keys(chunk.batchID).claim], arguments: expected + [String(to)] + chunk.positions.map(String.init))
        }
        guard !calls.isEmpty else { return }
        _ = try await redis.withConnection { redis in try redis.evaluateAll(Self.extendScript, calls: calls) }
    }

    /// Writes down requests of a provider that batches before they are sent (batch → each request's positions, in
    /// the order sent), one round trip: whatever becomes of a request — no answer, a 5xx, the worker killed
    /// mid-send — a retry finds its members' group in their claims and repeats it as it was, under the same
    /// idempotency key. Each member names the request by a random id, whose `m` field holds the list (an id of
    /// its own: a later request of one of its members must not rename the lists of the others); a member
    /// leaves its group when it gets an outcome. A request through a fallback send-config names it (`@id` after
    /// the list), so that its retry goes there too. A request of one is written in its member's own field
    /// (`alone`), so that nothing of it is left once the member has its outcome.
    public func keepTogether(_ requests: [String: [KeptRequest]]) async throws {
        var commands: [[String]] = []
        for (batchID, groups) in requests {
            let key = keys(batchID).groups
            for request in groups where !request.members.isEmpty {
                if request.members.count == 1 {
                    // A request of one names itself (`=`): no list to outlive it in the hash.
                    commands.append(["HSET", key, String(request.members[0]), Self.alone(request.via)])
                    continue
                }
                let id = String(UInt64.random(in: 1...UInt64.max), radix: 36)
                let list = request.members.map(String.init).joined(separator: ",") + (request.via.map { "@" + $0 } ?? "")
                var command = ["HSET", key, "m" + id, list]
                for member in request.members { command += [String(member), id] }
                commands.append(command)
            }
        }
        guard !commands.isEmpty else { return }
        try await pipelineChecked(commands, doing: "writing requests down")
    }

    /// Runs `commands` in one round trip; a reply that is an error (out of memory, a read-only replica) throws, so
    /// that nothing is sent that was not written down.
    private func pipelineChecked(_ commands: [[String]], doing what: String) async throws {
        let replies = try await redis.withConnection { redis in try redis.pipeline(commands) }
        if let failure = replies.lazy.compactMap({ if case .error(let message) = $0 { message } else { nil } }).first {
            throw RedisError(.reply, "\(what): \(failure)")
        }
    }

    /// Puts back, for recipients whose requests Redis lost, the config each must be sent through (a request of its
    /// own naming `via`, nil for the batch's own config), so that a recipient a provider may have taken is never
    /// handed to another. A recipient whose request Redis still holds keeps it (`HSETNX`). One round trip.
    public func pin(_ batchID: String, _ recipients: [(position: Int, via: String?)]) async throws {
        guard !recipients.isEmpty else { return }
        let key = keys(batchID).groups
        var commands: [[String]] = []
        commands.reserveCapacity(recipients.count * 2)
        for (position, via) in recipients { commands.append(["HSETNX", key, String(position), Self.alone(via)]) }
        try await pipelineChecked(commands, doing: "pinning recipients to their config")
    }

    /// A member's field for a request of one (itself), through `via`: `=` or `=@<config id>`; the claim script reads
    /// it as the list `<position>[@<config id>]`.
    static func alone(_ via: String?) -> String { "=" + (via.map { "@" + $0 } ?? "") }

    /// A request written down before it is sent: its members in the order sent, and the fallback send-config it
    /// goes through (nil for the batch's own).
    public struct KeptRequest: Sendable, Equatable {
        public var members: [Int]
        public var via: String?

        public init(_ members: [Int], via: String? = nil) {
            self.members = members
            self.via = via
        }
    }

    /// The stored outcomes of some recipients (nil for those without one).
    public func outcomes(batchID: String, positions: [Int]) async throws -> [Outcome?] {
        guard !positions.isEmpty else { return [] }
        let key = keys(batchID).done
        // In slices, pipelined: a retry of a million recipients is not one command that holds Redis for everyone.
        let commands = Self.slices(positions).map { ["HMGET", key] + $0.map(String.init) }
        let replies = try await redis.withConnection { redis in try redis.pipeline(commands) }
        if let failure = replies.lazy.compactMap({ if case .error(let message) = $0 { message } else { nil } }).first {
            throw RedisError(.reply, "reading outcomes: \(failure)")
        }
        return replies.flatMap { $0.array.map { $0.string.flatMap(Outcome.init(encoded:)) } }
    }

    /// How many recipients one command of a bulk read or forget names.
    static let sliceSize = 10_000

    static func slices(_ positions: [Int]) -> [ArraySlice<Int>] {
        stride(from: 0, to: positions.count, by: sliceSize).map { positions[$0..<min($0 + sliceSize, positions.count)] }
    }

    /// Counters of each batch: sent, failed, cancelled, suppressed (those the pipeline decided), and whether
    /// they are vouched for (`BatchCounters.trusted`): a batch whose state Redis lost counts from nothing
    /// again, and its counters are not the truth until it is rebuilt. One script call.
    public func counters(_ batchIDs: [String]) async throws -> [String: BatchCounters] {
        guard !batchIDs.isEmpty else { return [:] }
        let keys = [epochKey, lostKey] + batchIDs.flatMap { [self.keys($0).counters, self.keys($0).seal] }
        let reply = try await redis.withConnection { redis in try redis.evaluate(Self.countersScript, keys: keys, arguments: []) }
        var result: [String: BatchCounters] = [:]
        for (id, item) in zip(batchIDs, reply.array) {
            let parts = item.array
            var fields: [String: Int] = [:]
            let items = parts.dropFirst().map(\.string)
            for index in stride(from: 0, to: items.count - 1, by: 2) {
                if let name = items[index], let value = items[index + 1].flatMap({ Int($0) }) { fields[name] = value }
            }
            var counters = BatchCounters(fields)
            counters.trusted = parts.first?.integer == 1
            result[id] = counters
        }
        return result
    }

    /// When each batch's chunks handed back this round are due again (Unix ms): kept as the latest such time in
    /// the batch's counters (`due`), so stuck-batch recovery tells a batch waiting on its limits from one whose
    /// jobs are gone. One script call per batch, one round trip; a batch without hot state gets none.
    public func expectBack(_ dues: [String: Int64]) async throws {
        let calls = dues.map { batchID, due in (keys: [keys(batchID).counters], arguments: [String(due)]) }
        guard !calls.isEmpty else { return }
        _ = try await redis.withConnection { redis in try redis.evaluateAll(Self.expectBackScript, calls: calls) }
    }

    static let expectBackScript = RedisScript("""
        if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
        if tonumber(ARGV[1]) > tonumber(redis.call('HGET', KEYS[1], 'due') or '0') then redis.call('HSET', KEYS[1], 'due', ARGV[1]) end
        return 1
        """)

    /// A batch new to the pipeline (no recipient of it sent yet): active, and its empty state vouched for.
    public func open(_ batchID: String) async throws {
        let k = keys(batchID)
        _ = try await redis.withConnection { redis in
            try redis.evaluate(Self.openScript, keys: [epochKey, lostKey, k.seal, activeKey], arguments: [batchID])
        }
    }

    /// Marks a batch active (its counters are synced). Its state is not vouched for by this: a batch resumed
    /// after Redis lost data is rebuilt from its rows when a claim finds it unvouched for.
    public func activate(_ batchID: String) async throws {
        let key = activeKey
        _ = try await redis.withConnection { redis in try redis.command(["SADD", key, batchID]) }
    }

    public func activeBatches() async throws -> [String] {
        let key = activeKey
        return try await redis.withConnection { redis in try redis.command(["SMEMBERS", key]) }.array.compactMap(\.string)
    }

    /// How long a retired batch's state is kept: a day, long after any redelivery of its jobs, whose ids
    /// JetStream remembers for 20 minutes.
    public static let retainSeconds = 86_400

    /// Every key of a batch's hot state: what `retire` lets expire.
    public func stateKeys(_ batchID: String) -> [String] {
        keys(batchID).all
    }

    /// A finished batch: no longer synced; its state expires after `retainSeconds`.
    public func retire(_ batchID: String) async throws {
        let active = activeKey, retainSeconds = Self.retainSeconds
        let commands = [["SREM", active, batchID]] + stateKeys(batchID).map { ["EXPIRE", $0, String(retainSeconds)] }
        _ = try await redis.withConnection { redis in try redis.pipeline(commands) }
    }

    // MARK: Rebuilding from the rows

    /// The epoch the hot state is vouched for in now (rotated first if Redis restarted or lost it): what a
    /// rebuild hands to `seal`.
    public func epoch() async throws -> String {
        let keys = [epochKey, lostKey]
        return try await redis.withConnection { redis in try redis.evaluate(Self.epochScript, keys: keys, arguments: []) }.string ?? ""
    }

    /// Whether the batch's hot state is vouched for in this epoch.
    public func isTrusted(_ batchID: String) async throws -> Bool {
        try await counters([batchID])[batchID]?.trusted ?? false
    }

    /// The batches to rebuild: the epoch now, those a claim found unvouched for, and whether every batch in
    /// progress is (the epoch changed: Redis restarted or lost its data).
    public func unverified() async throws -> (epoch: String, everything: Bool, batches: [String]) {
        let keys = [epochKey, lostKey]
        let reply = try await redis.withConnection { redis in try redis.evaluate(Self.unverifiedScript, keys: keys, arguments: []) }
        let items = reply.array.compactMap(\.string)
        let members = items.dropFirst()
        return (items.first ?? "", members.contains(Self.everything), members.filter { $0 != Self.everything })
    }

    /// Every batch in progress was rebuilt in `epoch` but `pending`: unless the epoch changed again meanwhile,
    /// `everything` is done and `pending` are named for a rebuild of their own.
    public func rebuiltEverything(epoch: String, pending: [String] = []) async throws {
        let keys = [epochKey, lostKey]
        _ = try await redis.withConnection { redis in
            try redis.evaluate(Self.clearEverythingScript, keys: keys, arguments: [epoch, Self.everything] + pending)
        }
    }

    /// Puts back outcomes of a batch from its rows, a page at a time (`seal` comes last). An outcome Redis has
    /// is kept (the rows trail it), except a cancel that a send in flight overtook, as in `record`.
    public func restore(_ batchID: String, outcomes: [(position: Int, outcome: Outcome)]) async throws {
        guard !outcomes.isEmpty else { return }
        let k = keys(batchID)
        let calls = stride(from: 0, to: outcomes.count, by: 1_000).map { start in
            (keys: [k.done], arguments: outcomes[start..<min(start + 1_000, outcomes.count)].flatMap { [String($0.position), $0.outcome.encoded] })
        }
        _ = try await redis.withConnection { redis in try redis.evaluateAll(Self.restoreScript, calls: calls) }
    }

    /// Ends a rebuild begun in `epoch`: the counters tallied from the outcomes now held (less the recipients
    /// suppressed at upload, which the rows hold as suppressed but the pipeline never decided), the cancel put
    /// back if the batch is cancelled, the batch active and vouched for. False when the epoch changed during the
    /// rebuild (Redis restarted again): it starts over.
    public func seal(_ batchID: String, epoch: String, suppressedAtUpload: Int, cancelled: Bool, pause: Pause = Pause()) async throws -> Bool {
        let k = keys(batchID)
        let keys = [epochKey, lostKey, k.seal, k.done, k.counters, activeKey, k.cancel, k.pause]
        let arguments = [epoch, batchID, String(suppressedAtUpload), cancelled ? "1" : "0", String(Self.cancelSeconds), pause.encoded]
        return try await redis.withConnection { redis in try redis.evaluate(Self.sealScript, keys: keys, arguments: arguments) }.integer == 1
    }

    /// How long a cancel flag lives: past the last redelivery of the batch's jobs.
    static let cancelSeconds = 30 * 86_400

    /// From now on no claim of this batch succeeds: its unsent recipients come back `.cancelled`. Returns how many
    /// of its recipients are claimed right now (handed to a provider, or about to be).
    @discardableResult
    public func cancel(_ batchID: String, nowMs: Int64) async throws -> Int {
        let k = keys(batchID)
        return try await redis.withConnection { redis in
            try redis.evaluate(Self.claimedScript, keys: [k.claim, k.cancel], arguments: [String(nowMs), String(Self.cancelSeconds)])
        }.integer ?? 0
    }

    /// Whether a batch is paused, as of the `version`th pause or resume of it: the pause flag holds both, and an
    /// older word never overwrites a newer one, so a pause and a resume whose writes reach Redis out of order (two
    /// requests racing), or a rebuild that read the batch before a resume, leave the flag as the last one said.
    public struct Pause: Sendable, Equatable {
        public var version: Int
        public var paused: Bool
        public init(version: Int = 0, paused: Bool = false) {
            self.version = version
            self.paused = paused
        }
        var encoded: String { "\(version):\(paused ? 1 : 0)" }
    }

    /// Sets the batch's pause flag (unless a later pause or resume set it already); returns how many of its
    /// recipients are claimed right now (claimed before a pause, so possibly still on their way to the provider).
    @discardableResult
    public func pause(_ batchID: String, _ pause: Pause, nowMs: Int64) async throws -> Int {
        let k = keys(batchID)
        return try await redis.withConnection { redis in
            try redis.evaluate(Self.pauseScript, keys: [k.pause, k.claim], arguments: [pause.encoded, String(Self.cancelSeconds), String(nowMs)])
        }.integer ?? 0
    }

    /// Whether a batch's pause flag says paused (its value `<version>:<0|1>`), in Lua over the claim's KEYS[9].
    static let pausedLua = "string.sub(redis.call('GET', KEYS[9]) or '', -2) == ':1'"

    /// Lua that writes a pause flag's `value` to `key` unless the flag holds a later version already. One version is
    /// one state, so writing the same version again only renews its expiry (a long pause stays a pause) or mends a
    /// flag that disagrees with its rows.
    static func setPauseLua(key: String, value: String, seconds: String) -> String {
        """
        do
          local held = redis.call('GET', \(key))
          local newer = tonumber(string.match(\(value), '^(%d+)'))
          local older = held and tonumber(string.match(held, '^(%d+)')) or -1
          if newer >= older then redis.call('SET', \(key), \(value), 'EX', \(seconds)) end
        end
        """
    }

    /// Writes the flag only (the background role's rewrite on every sync): no count of the claims.
    public func rewritePause(_ batchID: String, _ pause: Pause) async throws {
        let k = keys(batchID)
        _ = try await redis.withConnection { redis in
            try redis.evaluate(Self.rewritePauseScript, keys: [k.pause], arguments: [pause.encoded, String(Self.cancelSeconds)])
        }
    }

    static let rewritePauseScript = RedisScript("""
        \(setPauseLua(key: "KEYS[1]", value: "ARGV[1]", seconds: "ARGV[2]"))
        return 1
        """)

    static let pauseScript = RedisScript("""
        \(setPauseLua(key: "KEYS[1]", value: "ARGV[1]", seconds: "ARGV[2]"))
        \(countHeldLua(claims: "KEYS[2]", now: "ARGV[3]"))
        """)

    /// How many of the batch's recipients are claimed now.
    public func claimed(_ batchID: String, nowMs: Int64) async throws -> Int {
        let k = keys(batchID)
        return try await redis.withConnection { redis in
            try redis.evaluate(Self.claimedScript, keys: [k.claim], arguments: [String(nowMs)])
        }.integer ?? 0
    }

    /// Forgets the outcome and attempts of recipients (a dead letter re-driven), and makes the batch active
    /// again: its state no longer expires (a retired batch's would, in the middle of its new sends).
    public func forget(batchID: String, positions: [Int], failedDelta: Int) async throws {
        let k = keys(batchID), active = activeKey
        let deletes = Self.slices(positions).flatMap { slice -> [[String]] in
            let fields = slice.map(String.init)
            return [["HDEL", k.done] + fields, ["HDEL", k.attempts] + fields, ["HDEL", k.groups] + fields]
        }
        _ = try await redis.withConnection { redis in
            try redis.pipeline(deletes + [["HINCRBY", k.counters, RecipientStatus.failed.rawValue, String(-failedDelta)], ["SADD", active, batchID]]
                               + k.all.filter { $0 != k.cancel && $0 != k.pause }.map { ["PERSIST", $0] })
        }
    }

    /// The epoch check every script that vouches for or trusts the state starts with: the Redis run the state
    /// was vouched for in is this one, or every batch is to be rebuilt (`everything` marked lost).
    /// The epoch is the run id and a fresh stamp (Redis's clock, µs): a Redis that restarted has another run id,
    /// and one that lost the key (FLUSHALL, a failover to a replica that never had it) gets a new stamp, so a
    /// seal or a rebuild begun before either never matches again. A Redis whose INFO is not callable still
    /// tells a lost key.
    static let epochLua = """
        local function current_epoch(epoch_key, lost_key)
          local run = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)') or 'norun'
          local epoch = redis.call('GET', epoch_key)
          if not epoch or string.sub(epoch, 1, #run + 1) ~= run .. ':' then
            local now = redis.call('TIME')
            epoch = run .. ':' .. now[1] .. string.format('%06d', tonumber(now[2]))
            redis.call('SET', epoch_key, epoch)
            redis.call('SADD', lost_key, '\(everything)')
          end
          return epoch
        end
        """

    static let epochScript = RedisScript("""
        \(epochLua)
        return current_epoch(KEYS[1], KEYS[2])
        """)

    static let unverifiedScript = RedisScript("""
        \(epochLua)
        local out = { current_epoch(KEYS[1], KEYS[2]) }
        for _, m in ipairs(redis.call('SMEMBERS', KEYS[2])) do out[#out + 1] = m end
        return out
        """)

    static let clearEverythingScript = RedisScript("""
        \(epochLua)
        if current_epoch(KEYS[1], KEYS[2]) ~= ARGV[1] then return 0 end
        for i = 3, #ARGV do redis.call('SADD', KEYS[2], ARGV[i]) end
        return redis.call('SREM', KEYS[2], ARGV[2])
        """)

    static let openScript = RedisScript("""
        \(epochLua)
        redis.call('SET', KEYS[3], current_epoch(KEYS[1], KEYS[2]))
        redis.call('SADD', KEYS[4], ARGV[1])
        return 1
        """)

    static let countersScript = RedisScript("""
        \(epochLua)
        local epoch = current_epoch(KEYS[1], KEYS[2])
        local out = {}
        for i = 3, #KEYS, 2 do
          local item = { redis.call('GET', KEYS[i + 1]) == epoch and 1 or 0 }
          for _, v in ipairs(redis.call('HGETALL', KEYS[i])) do item[#item + 1] = v end
          out[#out + 1] = item
        end
        return out
        """)

    static let restoreScript = RedisScript("""
        local fields = {}
        for i = 1, #ARGV, 2 do fields[#fields + 1] = ARGV[i] end
        local existing = redis.call('HMGET', KEYS[1], unpack(fields))
        local sets = {}
        for k = 1, #fields do
          local v = ARGV[2 * k]
          if not existing[k] or (existing[k] == 'c' and v ~= 'c') then sets[#sets + 1] = fields[k]; sets[#sets + 1] = v end
        end
        if #sets > 0 then redis.call('HSET', KEYS[1], unpack(sets)) end
        return #sets / 2
        """)

    static let sealScript = RedisScript("""
        \(epochLua)
        if current_epoch(KEYS[1], KEYS[2]) ~= ARGV[1] then return 0 end
        local counts = { s = 0, f = 0, c = 0, x = 0 }
        for _, v in ipairs(redis.call('HVALS', KEYS[4])) do
          local k = string.sub(v, 1, 1)
          counts[k] = (counts[k] or 0) + 1
        end
        redis.call('HSET', KEYS[5], \(RecipientStatus.sent.sql), counts.s, \(RecipientStatus.failed.sql), counts.f,
                   \(RecipientStatus.cancelled.sql), counts.c, \(RecipientStatus.suppressed.sql), math.max(0, counts.x - tonumber(ARGV[3])))
        if ARGV[4] == '1' then redis.call('SET', KEYS[7], '1', 'EX', ARGV[5]) end
        \(setPauseLua(key: "KEYS[8]", value: "ARGV[6]", seconds: "ARGV[5]"))
        redis.call('SET', KEYS[3], ARGV[1])
        redis.call('SADD', KEYS[6], ARGV[2])
        redis.call('SREM', KEYS[2], ARGV[2])
        return 1
        """)

    /// Counts the live claims of a batch; with a second key (the cancel flag), sets it first, in the same step.
    static let claimedScript = RedisScript("""
        if KEYS[2] then redis.call('SET', KEYS[2], '1', 'EX', ARGV[2]) end
        \(countHeldLua(claims: "KEYS[1]", now: "ARGV[1]"))
        """)

    /// Lua that returns how many of a batch's claims (`claims`, position → held until) are live at `now`.
    static func countHeldLua(claims: String, now: String) -> String {
        """
        local now, held = tonumber(\(now)), 0
        for _, h in ipairs(redis.call('HVALS', \(claims))) do
          if tonumber(h) > now then held = held + 1 end
        end
        return held
        """
    }

    /// Both scripts read and write a chunk in bulk (HMGET, one HSET), not a command per recipient: Redis's
    /// CPU per message is what they cost. `slices` keeps `unpack` within Lua's stack for any chunk size.
    static let slicesLua = """
        local function slices(list, size)
          -- A chunk's list is within one slice: used as it is, not copied.
          if #list == 0 then return {} end
          if #list <= size then return { list } end
          local out = {}
          for i = 1, #list, size do
            local part = {}
            for j = i, math.min(i + size - 1, #list) do part[#part + 1] = list[j] end
            out[#out + 1] = part
          end
          return out
        end
        """

    static let claimScript = RedisScript("""
        \(slicesLua)
        local function hmget(key, fields)
          if #fields == 0 then return {} end
          if #fields <= 500 then return redis.call('HMGET', key, unpack(fields)) end
          local values = {}
          for _, part in ipairs(slices(fields, 500)) do
            local got = redis.call('HMGET', key, unpack(part))
            for k = 1, #part do values[#values + 1] = got[k] end
          end
          return values
        end
        \(epochLua)
        local now = tonumber(ARGV[1]); local hold = tonumber(ARGV[2])
        local until_text = tostring(now + hold)
        local positions = {}
        for i = 4, #ARGV do positions[#positions + 1] = ARGV[i] end
        -- A state not vouched for in this epoch may lack outcomes the rows have: nothing is claimed until it is rebuilt.
        if redis.call('GET', KEYS[6]) ~= current_epoch(KEYS[7], KEYS[8]) then
          redis.call('SADD', KEYS[8], ARGV[3])
          local out = {}
          for i = 1, #positions do out[i] = 'L' end
          return out
        end
        local cancelled = redis.call('EXISTS', KEYS[4]) == 1
        local paused = \(pausedLua)
        local done = hmget(KEYS[1], positions)
        local held = hmget(KEYS[2], positions)
        local attempts = hmget(KEYS[3], positions)
        local leaders = hmget(KEYS[5], positions)
        local members = {}
        local out, claims = {}, {}
        for i, p in ipairs(positions) do
          if done[i] then out[i] = done[i]
          -- Held before cancelled: a send in flight at the cancel records what really happened, not a cancel.
          elseif held[i] and tonumber(held[i]) > now then out[i] = 'B'
          elseif cancelled then out[i] = 'C'
          elseif paused then out[i] = 'P'
          else
            claims[#claims + 1] = p; claims[#claims + 1] = until_text
            out[i] = attempts[i] and ('G' .. attempts[i]) or 'G0'
            local leader = leaders[i]
            if leader and string.sub(leader, 1, 1) == '=' then
              out[i] = out[i] .. '|' .. p .. string.sub(leader, 2)
            elseif leader then
              if members[leader] == nil then members[leader] = redis.call('HGET', KEYS[5], 'm' .. leader) or false end
              if members[leader] then out[i] = out[i] .. '|' .. members[leader] end
            end
          end
        end
        for _, part in ipairs(slices(claims, 1000)) do redis.call('HSET', KEYS[2], unpack(part)) end
        return out
        """)

    static let extendScript = RedisScript("""
        \(slicesLua)
        local positions = {}
        for i = 4, #ARGV do positions[#positions + 1] = ARGV[i] end
        local kept = {}
        for _, part in ipairs(slices(positions, 500)) do
          local held = redis.call('HMGET', KEYS[1], unpack(part))
          for k, p in ipairs(part) do
            if held[k] == ARGV[1] or held[k] == ARGV[2] then kept[#kept + 1] = p; kept[#kept + 1] = ARGV[3] end
          end
        end
        for _, part in ipairs(slices(kept, 1000)) do redis.call('HSET', KEYS[1], unpack(part)) end
        return #kept / 2
        """)

    /// A final outcome counts once (a field already in `done` is left as it is, but for a cancel that a send in
    /// flight overtakes), however often a redelivered chunk records it.
    static let recordScript = RedisScript("""
        \(slicesLua)
        local names = { s = \(RecipientStatus.sent.sql), f = \(RecipientStatus.failed.sql), c = \(RecipientStatus.cancelled.sql), x = \(RecipientStatus.suppressed.sql) }
        redis.call('SADD', KEYS[5], ARGV[1])
        redis.call('HSET', KEYS[4], 'last', ARGV[2])
        local finals, values, seen, released = {}, {}, {}, {}
        local retried, throttled = 0, 0
        for i = 3, #ARGV, 3 do
          local op, p, v = ARGV[i], ARGV[i + 1], ARGV[i + 2]
          released[#released + 1] = p
          if op == 'T' then
            if not seen[p] then seen[p] = true; finals[#finals + 1] = p; values[#values + 1] = v end
          elseif op == 'R' then
            redis.call('HINCRBY', KEYS[3], p, 1); retried = retried + 1
          elseif op == 'W' then
            throttled = throttled + 1
          end
        end
        local counts, sets = {}, {}
        local offset = 0
        for _, part in ipairs(slices(finals, 500)) do
          local existing = redis.call('HMGET', KEYS[1], unpack(part))
          for k, p in ipairs(part) do
            local v = values[offset + k]
            -- A send in flight at the cancel overtakes the cancel (as its row does): it was handed to the provider.
            local overtakes = existing[k] == 'c' and string.sub(v, 1, 1) ~= 'c'
            if not existing[k] or overtakes then
              sets[#sets + 1] = p; sets[#sets + 1] = v
              local name = names[string.sub(v, 1, 1)]
              counts[name] = (counts[name] or 0) + 1
              if overtakes then counts[names.c] = (counts[names.c] or 0) - 1 end
            end
          end
          offset = offset + #part
        end
        for _, part in ipairs(slices(sets, 1000)) do redis.call('HSET', KEYS[1], unpack(part)) end
        -- A recipient with an outcome leaves its request: what is left of it may be grouped anew.
        if #finals > 0 and redis.call('EXISTS', KEYS[6]) == 1 then
          for _, part in ipairs(slices(finals, 1000)) do redis.call('HDEL', KEYS[6], unpack(part)) end
        end
        for name, n in pairs(counts) do redis.call('HINCRBY', KEYS[4], name, n) end
        if retried > 0 then redis.call('HINCRBY', KEYS[4], 'retried', retried) end
        if throttled > 0 then redis.call('HINCRBY', KEYS[4], 'throttled', throttled) end
        for _, part in ipairs(slices(released, 1000)) do redis.call('HDEL', KEYS[2], unpack(part)) end
        return 1
        """)
}

/// What the pipeline has decided for a batch's recipients so far.
public struct BatchCounters: Sendable, Equatable {
    public var sent = 0, failed = 0, cancelled = 0, suppressed = 0, retried = 0, throttled = 0
    /// When an outcome was last recorded (Unix ms), 0 for never.
    public var lastOutcomeMs = 0
    /// The latest time a chunk of the batch was handed back until (Unix ms, `expectBack`), 0 for none.
    public var dueMs = 0
    /// Whether the batch's state is vouched for in Redis's current epoch: otherwise Redis lost outcomes of it (or
    /// may have), and the counters are not stored until the state is rebuilt from the rows.
    public var trusted = true

    public init(_ fields: [String: Int] = [:]) {
        // The counters' fields are named after the statuses they count (the record script's `names`).
        sent = fields[RecipientStatus.sent.rawValue] ?? 0
        failed = fields[RecipientStatus.failed.rawValue] ?? 0
        cancelled = fields[RecipientStatus.cancelled.rawValue] ?? 0
        suppressed = fields[RecipientStatus.suppressed.rawValue] ?? 0
        retried = fields["retried"] ?? 0
        throttled = fields["throttled"] ?? 0
        lastOutcomeMs = fields["last"] ?? 0
        dueMs = fields["due"] ?? 0
    }

    /// Recipients with a final outcome.
    public var decided: Int { sent + failed + cancelled + suppressed }
}
