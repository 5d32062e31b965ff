import Domain
import Persistence
@testable import Sender
import Testing

/// Which send-config a chunk's recipients go through while its own provider is down: never a second provider for
/// a message the first may have taken.
@Suite("Failover routes")
struct FailoverRouteTests {
    static let own = "own", first = "first", second = "second"

    static func route(_ admission: CircuitBreaker.Admission, closed: Set<String> = [first, second], ownClosed: Bool = true,
                      _ claims: [DeliveryState.Claim])
        -> FailoverRoute {
        FailoverRoute(own: own, admission: admission, ownClosed: ownClosed, fallbacks: [first, second], available: closed.contains,
                      positions: Array(claims.indices), claims: claims)
    }

    @Test("while its own provider answers, a chunk goes through it, whatever its fallbacks")
    func ownAnswering() {
        for admission in [CircuitBreaker.Admission.send, .probe] {
            let way = Self.route(admission, [.go(attempts: 0), .go(attempts: 0), .done(.sent(providerMessageID: "p"))])
            #expect(way.destination == Self.own && way.elsewhere.isEmpty, "\(admission)")
            #expect(way.bindsRequests, "a config with fallbacks writes every request down")
        }
    }

    @Test("while it is down, unsent recipients go through the first fallback whose circuit is closed; none closed, they wait")
    func standIn() {
        let fresh: [DeliveryState.Claim] = [.go(attempts: 0), .go(attempts: 0), .busy]
        #expect(Self.route(.wait(ms: 5_000), fresh).destination == Self.first)
        #expect(Self.route(.wait(ms: 5_000), closed: [Self.second], fresh).destination == Self.second, "the first is down too")
        let held = Self.route(.wait(ms: 5_000), closed: [], fresh)
        #expect(held.destination == Self.own && held.elsewhere.isEmpty, "no fallback answers: held with its own")
    }

    @Test("a circuit that gave up holding (10 minutes of outage) lets everything through, yet unsent recipients still go through a fallback that answers")
    func gaveUp() {
        let fresh: [DeliveryState.Claim] = [.go(attempts: 0), .go(attempts: 2)]
        let way = Self.route(.send, ownClosed: false, fresh)
        #expect(way.destination == Self.first && way.elsewhere == [1])
        let alone = Self.route(.send, closed: [], ownClosed: false, fresh)
        #expect(alone.destination == Self.own && alone.elsewhere.isEmpty, "no fallback: they go and spend attempts")
    }

    @Test("a recipient the own provider may have taken (an attempt used, a request written down) stays with it, let go for a circuit's wait")
    func pinnedToOwn() {
        let claims: [DeliveryState.Claim] = [.go(attempts: 0), .go(attempts: 1), .go(attempts: 0, group: [2, 3]), .go(attempts: 0, group: [2, 3]),
                                             .go(attempts: 0)]
        let way = Self.route(.wait(ms: 5_000), claims)
        #expect(way.destination == Self.first)
        #expect(way.elsewhere == [1, 2, 3])
        #expect(way.elsewhereRetryMs == CircuitBreaker.openMs, "their provider is down: they come back with its circuit")
        // The same chunk once the own provider answers again: everything goes through it.
        let back = Self.route(.send, claims)
        #expect(back.destination == Self.own && back.elsewhere.isEmpty)
    }

    @Test("a request that went through a fallback is repeated there, even after the own provider recovers")
    func pinnedToFallback() {
        let claims: [DeliveryState.Claim] = [.go(attempts: 1, group: [0, 1], via: Self.second), .go(attempts: 1, group: [0, 1], via: Self.second),
                                             .go(attempts: 0)]
        let back = Self.route(.send, claims)
        #expect(back.destination == Self.second, "two bound to the fallback, one fresh: the larger share goes first")
        #expect(back.elsewhere == [2])
        #expect(back.elsewhereRetryMs == FailoverRoute.elsewhereRetryMs, "the other config answers: they come back soon")
        #expect(!back.routesFresh, "a repeat through the fallback is no switch of the batch's route")
        #expect(Self.route(.wait(ms: 5_000), [.go(attempts: 0)]).routesFresh, "standing in for the own config is")
        let alone = Self.route(.send, [.go(attempts: 1, group: [0], via: Self.second)])
        #expect(alone.destination == Self.second)
        let down = Self.route(.send, closed: [Self.first], [.go(attempts: 1, group: [0], via: Self.second)])
        #expect(down.destination == Self.second, "the fallback it went through is down: it waits for that one's circuit, not another provider")
    }
}
