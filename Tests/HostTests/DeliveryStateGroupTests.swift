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
        try await state.keepTogether([batch: [[7, 3, 5], [9]]])
        let claims = try await state.claim([(batch, [3, 5, 7, 9, 11])], nowMs: 1_000, holdMs: 10_000)[0]
        #expect(claims == [.go(attempts: 0, group: [7, 3, 5]), .go(attempts: 0, group: [7, 3, 5]), .go(attempts: 0, group: [7, 3, 5]),
                           .go(attempts: 0, group: [9]), .go(attempts: 0)], "a request of one is kept too; one never sent has none")
        try await state.record([batch: [.final(position: 7, .sent(providerMessageID: "p7")), .attemptUsed(position: 3), .unclaimed(position: 5)]],
                               nowMs: 2_000)
        let again = try await state.claim([(batch, [3, 5, 7])], nowMs: 3_000, holdMs: 10_000)[0]
        #expect(again == [.go(attempts: 1, group: [7, 3, 5]), .go(attempts: 0, group: [7, 3, 5]), .done(.sent(providerMessageID: "p7"))],
                "the others still name the request; its decided member does not claim")
        try await state.retire(batch)
        try await threads.shutdownGracefully()
    }
}
