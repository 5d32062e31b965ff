import Foundation
import NIOPosix
@testable import Persistence
import TestSupport
import Testing

/// The hot state's epoch on the stack's real Redis: a state Redis may have lost outcomes of (data gone, or a
/// restart) claims nothing until it is rebuilt from the rows, and a cancel never hides a send in flight.
@Suite("Delivery state: what Redis lost, and cancels")
struct DeliveryStateEpochTests {
    struct Fixture {
        let threads: NIOThreadPool
        let state: DeliveryState
        let redis: RedisConnection

        init() throws {
            threads = NIOThreadPool(numberOfThreads: 1)
            threads.start()
            let url = try StackEnvironment.value("REDIS_URL")
            state = DeliveryState(redis: StorePools.redis(url: url, capacity: 1, threads: threads), prefix: DeliveryState.prefix(for: "test:\(UUID().uuidString):"))
            redis = try RedisConnection(url: url)
        }

        /// What FLUSHALL does to this deployment's keys (only them: the stack is shared).
        func loseEverything() throws {
            let keys = try redis.command(["KEYS", state.prefix + "*"]).array.compactMap(\.string)
            if !keys.isEmpty { _ = try redis.command(["DEL"] + keys) }
        }

        func lost() throws -> Set<String> { Set(try redis.command(["SMEMBERS", state.lostKey]).array.compactMap(\.string)) }
        func finish() async throws { try await threads.shutdownGracefully() }
    }

    @Test("after the data is lost, claims of a batch take nothing and name it for a rebuild; the rebuilt state claims what the rows left, with counters tallied from it")
    func lostDataClaimsNothingUntilRebuilt() async throws {
        let f = try Fixture()
        let batch = UUID().uuidString
        try await f.state.open(batch)
        #expect(try await f.state.claim([(batch, [1, 2, 3])], nowMs: 1_000, holdMs: 10_000)[0] == [.go(attempts: 0), .go(attempts: 0), .go(attempts: 0)])
        try await f.state.record([batch: [.final(position: 1, .sent(providerMessageID: "p1")), .final(position: 2, .failed(reason: "no"))]], nowMs: 2_000)

        try f.loseEverything()
        #expect(try await f.state.claim([(batch, [1, 2, 3, 4])], nowMs: 3_000, holdMs: 10_000)[0] == Array(repeating: .unverified, count: 4))
        #expect(try f.lost() == [batch, DeliveryState.everything], "the batch, and every batch in progress, wait for a rebuild")
        #expect(try await f.state.counters([batch])[batch]?.trusted == false)

        // The rebuild: the rows' outcomes (position 1 sent, 2 failed, 9 suppressed at upload), then the seal.
        let epoch = try await f.state.epoch()
        try await f.state.restore(batch, outcomes: [(1, .sent(providerMessageID: "p1")), (2, .failed(reason: "no")), (9, .suppressed)])
        #expect(try await f.state.seal(batch, epoch: epoch, suppressedAtUpload: 1, cancelled: false))
        let claims = try await f.state.claim([(batch, [1, 2, 3, 4])], nowMs: 4_000, holdMs: 10_000)[0]
        #expect(claims == [.done(.sent(providerMessageID: "p1")), .done(.failed(reason: "no")), .go(attempts: 0), .go(attempts: 0)])
        let counters = try #require(try await f.state.counters([batch])[batch])
        #expect(counters.trusted && counters.sent == 1 && counters.failed == 1 && counters.suppressed == 0)
        #expect(try f.lost() == [DeliveryState.everything], "the batch is done; every other batch in progress is still to be rebuilt")
        try await f.state.rebuiltEverything(epoch: epoch)
        #expect(try f.lost().isEmpty)
        try await f.finish()
    }

    @Test("a rebuild pins the recipients a provider may have taken to the config they went out through; a request Redis still holds is kept")
    func rebuildPins() async throws {
        let f = try Fixture()
        let batch = UUID().uuidString, fallback = UUID().uuidString.lowercased()
        try await f.state.open(batch)
        try await f.state.keepTogether([batch: [.init([5, 6])]])
        try f.loseEverything()
        try await f.state.keepTogether([batch: [.init([5, 6])]])
        let epoch = try await f.state.epoch()
        // Rows say: 3 spent an attempt through the batch's own config, 4 went through the fallback; 5 is in a request Redis still holds.
        try await f.state.pin(batch, [(3, nil), (4, fallback), (5, nil)])
        #expect(try await f.state.seal(batch, epoch: epoch, suppressedAtUpload: 0, cancelled: false))
        let claims = try await f.state.claim([(batch, [2, 3, 4, 5])], nowMs: 1_000, holdMs: 10_000)[0]
        #expect(claims == [.go(attempts: 0), .go(attempts: 0, group: [3]), .go(attempts: 0, group: [4], via: fallback), .go(attempts: 0, group: [5, 6])])
        try await f.finish()
    }

    @Test("a Redis that restarted (another run id) voids every seal: claims wait for the rebuild, and a rebuild begun in the old epoch does not seal")
    func restartVoidsSeals() async throws {
        let f = try Fixture()
        let batch = UUID().uuidString
        try await f.state.open(batch)
        var before = try await f.state.epoch()
        // The epoch and the seal as a Redis run before this one left them (its run id, which a restart changes).
        _ = try f.redis.command(["SET", f.state.epochKey, "an-earlier-run"])
        _ = try f.redis.command(["SET", f.state.keys(batch).seal, "an-earlier-run"])
        #expect(try await f.state.claim([(batch, [1])], nowMs: 1_000, holdMs: 10_000)[0] == [.unverified])
        #expect(try f.lost() == [batch, DeliveryState.everything])
        let after = try await f.state.epoch()
        #expect(after != before && after.split(separator: ":").first == before.split(separator: ":").first,
                "a new epoch of the run that holds the data now")
        before = after
        #expect(try await f.state.seal(batch, epoch: "an-earlier-run", suppressedAtUpload: 0, cancelled: false) == false)
        #expect(try await f.state.seal(batch, epoch: before, suppressedAtUpload: 0, cancelled: true))
        #expect(try await f.state.claim([(batch, [1])], nowMs: 2_000, holdMs: 10_000)[0] == [.cancelled], "a cancelled batch's cancel is put back")
        try await f.finish()
    }

    @Test("data lost in the middle of a rebuild (FLUSHALL, same Redis run) voids it: the seal is refused and everything is still to be rebuilt")
    func lossDuringRebuildVoidsIt() async throws {
        let f = try Fixture()
        let batch = UUID().uuidString
        try await f.state.open(batch)
        let epoch = try await f.state.epoch()
        try await f.state.restore(batch, outcomes: [(1, .sent(providerMessageID: "p1"))])
        try f.loseEverything()
        try await f.state.restore(batch, outcomes: [(2, .sent(providerMessageID: "p2"))])
        #expect(try await f.state.seal(batch, epoch: epoch, suppressedAtUpload: 0, cancelled: false) == false, "page 1 is gone")
        #expect(try await f.state.claim([(batch, [1])], nowMs: 1_000, holdMs: 10_000)[0] == [.unverified])
        try await f.state.rebuiltEverything(epoch: epoch)
        #expect(try f.lost().contains(DeliveryState.everything), "marked by the loss, not cleared by a rebuild of the epoch before it")
        try await f.finish()
    }

    @Test("a rebuild adds what the rows know and keeps what Redis knows: a send that overtook a cancel wins")
    func restoreOnlyAdds() async throws {
        let f = try Fixture()
        let batch = UUID().uuidString
        try await f.state.open(batch)
        try await f.state.record([batch: [.final(position: 1, .sent(providerMessageID: "redis")), .final(position: 2, .cancelled)]], nowMs: 1_000)
        try await f.state.restore(batch, outcomes: [(1, .failed(reason: "older row")), (2, .sent(providerMessageID: "row")), (3, .cancelled)])
        #expect(try await f.state.outcomes(batchID: batch, positions: [1, 2, 3]) == [.sent(providerMessageID: "redis"), .sent(providerMessageID: "row"), .cancelled])
        try await f.finish()
    }

    @Test("a recipient held by a send in flight is busy, not cancelled, after a cancel; its sent outcome overtakes a cancel and moves the counters")
    func cancelNeverHidesASendInFlight() async throws {
        let f = try Fixture()
        let batch = UUID().uuidString
        try await f.state.open(batch)
        #expect(try await f.state.claim([(batch, [1, 2])], nowMs: 1_000, holdMs: 10_000)[0] == [.go(attempts: 0), .go(attempts: 0)])
        #expect(try await f.state.cancel(batch, nowMs: 2_000) == 2, "both are in flight")
        #expect(try await f.state.claim([(batch, [1, 2, 3])], nowMs: 3_000, holdMs: 10_000)[0] == [.busy, .busy, .cancelled])
        try await f.state.record([batch: [.final(position: 3, .cancelled)]], nowMs: 3_000)
        // A redelivered job's claim found position 1 cancelled under an older order: the send's outcome wins.
        try await f.state.record([batch: [.final(position: 1, .cancelled)]], nowMs: 3_500)
        try await f.state.record([batch: [.final(position: 1, .sent(providerMessageID: "p1")), .final(position: 2, .sent(providerMessageID: "p2"))]], nowMs: 4_000)
        #expect(try await f.state.claimed(batch, nowMs: 4_000) == 0)
        let counters = try #require(try await f.state.counters([batch])[batch])
        #expect(counters.sent == 2 && counters.cancelled == 1)
        try await f.finish()
    }

    @Test("a paused batch claims nothing until resumed; an older pause or resume never overwrites a newer one; a rebuild puts the pause back")
    func pauseFlag() async throws {
        let f = try Fixture()
        let batch = UUID().uuidString
        try await f.state.open(batch)
        #expect(try await f.state.claim([(batch, [1])], nowMs: 1_000, holdMs: 10_000)[0] == [.go(attempts: 0)])
        // The claim of 1 is still held: a pause counts it as in flight.
        #expect(try await f.state.pause(batch, DeliveryState.Pause(version: 1, paused: true), nowMs: 2_000) == 1)
        #expect(try await f.state.claim([(batch, [2, 3])], nowMs: 2_000, holdMs: 10_000)[0] == [.paused, .paused])
        #expect(try await f.state.claim([(batch, [1])], nowMs: 2_000, holdMs: 10_000)[0] == [.busy], "a send in flight at the pause stays its own")
        // A pause (version 1) whose write reached Redis after the resume that followed it (version 2) changes nothing.
        try await f.state.pause(batch, DeliveryState.Pause(version: 2, paused: false), nowMs: 3_000)
        try await f.state.pause(batch, DeliveryState.Pause(version: 1, paused: true), nowMs: 3_000)
        #expect(try await f.state.claim([(batch, [2])], nowMs: 3_000, holdMs: 10_000)[0] == [.go(attempts: 0)], "the later resume stands")
        try await f.state.pause(batch, DeliveryState.Pause(version: 3, paused: true), nowMs: 3_000)
        // Redis loses everything; the rebuild seals the batch with the pause the rows hold.
        try f.loseEverything()
        let epoch = try await f.state.epoch()
        #expect(try await f.state.seal(batch, epoch: epoch, suppressedAtUpload: 0, cancelled: false, pause: DeliveryState.Pause(version: 3, paused: true)))
        #expect(try await f.state.claim([(batch, [3])], nowMs: 4_000, holdMs: 10_000)[0] == [.paused], "the pause is put back")
        try await f.state.pause(batch, DeliveryState.Pause(version: 4, paused: false), nowMs: 4_000)
        #expect(try await f.state.claim([(batch, [3])], nowMs: 4_000, holdMs: 10_000)[0] == [.go(attempts: 0)])
        try await f.finish()
    }
}
