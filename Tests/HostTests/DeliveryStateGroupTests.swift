import Foundation
import NIOPosix
import Persistence
import TestSupport
import Testing

/// The requests of several messages the sender writes down before sending, on the stack's real Redis: a
/// retry's claims carry each request's members in their order, and a member with an outcome leaves it.
@Suite("Delivery state: requests kept together")
struct DeliveryStateGroupTests {
    @Test("claims carry the members of the request their recipient went out in, in its order; an outcome takes a member out")
    func groupsRoundTrip() async throws {
        let threads = NIOThreadPool(numberOfThreads: 1)
        threads.start()
        let redis = StorePools.redis(url: try StackEnvironment.value("REDIS_URL"), capacity: 1, threads: threads)
        let state = DeliveryState(redis: redis, prefix: DeliveryState.prefix(for: "test:\(UUID().uuidString):"))
        let batch = UUID().uuidString
        try await state.open(batch)
        let fallback = UUID().uuidString.lowercased()
        try await state.keepTogether([batch: [.init([7, 3, 5]), .init([9]), .init([12, 13], via: fallback)]])
        let claims = try await state.claim([(batch, [3, 5, 7, 9, 11, 13])], nowMs: 1_000, holdMs: 10_000)[0]
        #expect(claims == [.go(attempts: 0, group: [7, 3, 5]), .go(attempts: 0, group: [7, 3, 5]), .go(attempts: 0, group: [7, 3, 5]),
                           .go(attempts: 0, group: [9]), .go(attempts: 0), .go(attempts: 0, group: [12, 13], via: fallback)],
                "a request of one is kept too; one never sent has none; one through a fallback names it")
        try await state.record([batch: [.final(position: 7, .sent(providerMessageID: "p7")), .attemptUsed(position: 3), .unclaimed(position: 5)]],
                               nowMs: 2_000)
        let again = try await state.claim([(batch, [3, 5, 7])], nowMs: 3_000, holdMs: 10_000)[0]
        #expect(again == [.go(attempts: 1, group: [7, 3, 5]), .go(attempts: 0, group: [7, 3, 5]), .done(.sent(providerMessageID: "p7"))],
                "the others still name the request; its decided member does not claim")
        // A slow round extends the claims it holds, as it set them (its last extension, or one whose answer
        // was lost); a claim another worker holds now is left to it.
        try await state.extend([(batch, [3, 5])], from: [13_000], to: 20_000)
        #expect(try await state.claim([(batch, [3, 5])], nowMs: 15_000, holdMs: 1_000)[0] == [.busy, .busy], "held until 20 s now")
        try await state.extend([(batch, [3, 5])], from: [1, 20_000], to: 30_000)
        #expect(try await state.claim([(batch, [3])], nowMs: 25_000, holdMs: 1_000)[0] == [.busy])
        try await state.record([batch: [.unclaimed(position: 5)]], nowMs: 25_000)
        _ = try await state.claim([(batch, [5])], nowMs: 25_000, holdMs: 50_000)
        try await state.extend([(batch, [5])], from: [30_000], to: 40_000)
        #expect(try await state.claim([(batch, [5])], nowMs: 45_000, holdMs: 1_000)[0] == [.busy], "another's claim (until 75 s) is not cut to 40 s")
        try await state.retire(batch)
        try await threads.shutdownGracefully()
    }
}
