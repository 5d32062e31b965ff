import Domain
import Persistence
import ProviderModel
@testable import Sender
import Testing

/// The sender's triage of a chunk's claims, before any send.
struct ClaimTriageTests {
    let job = ChunkJob(batchID: "b1", userID: "u1", sendConfigID: "c1", common: OutboundMessage(id: "m", channel: .email),
                       recipients: (0..<6).map { ChunkJob.Recipient(position: $0, address: "r\($0)@example.com") })
    let claims: [DeliveryState.Claim] = [.go(attempts: 0), .done(.sent(providerMessageID: "p1")), .cancelled, .busy, .go(attempts: 2), .go(attempts: 1)]

    func positions(_ entries: [DeliveryState.Entry]) -> [String] {
        entries.map {
            switch $0 {
            case .final(let position, let outcome): "final \(position) \(outcome.status.rawValue)"
            case .unclaimed(let position): "unclaimed \(position)"
            case .released(let position): "released \(position)"
            case .attemptUsed(let position): "attempt \(position)"
            }
        }
    }

    @Test("known outcomes are written again, the cancelled cancelled, the held come back in 5 s, the rest go within the grant")
    func withinTheGrant() {
        let triage = ClaimTriage(job, claims: claims, grant: .init(granted: 3, waitMs: 40), routeKnown: true, maxBatch: 100)
        #expect(triage.requests.joined().map(\.recipient.position) == [0, 4, 5] && triage.requests.joined().map(\.attempts) == [0, 2, 1])
        #expect(triage.settled.rows.map(\.position) == [1, 2] && triage.settled.rows.map(\.status) == [.sent, .cancelled])
        #expect(positions(triage.settled.entries) == ["final 2 cancelled"])
        #expect(triage.settled.retryInMs == 5_000 && triage.waitingForTokens == 0)
    }

    @Test("what the grant does not cover is let go, unspent, until the bucket's appointment")
    func beyondTheGrant() {
        let triage = ClaimTriage(job, claims: claims, grant: .init(granted: 1, waitMs: 7_000), routeKnown: true, maxBatch: 100)
        #expect(triage.requests.joined().map(\.recipient.position) == [0])
        #expect(positions(triage.settled.entries) == ["final 2 cancelled", "unclaimed 4", "unclaimed 5"])
        #expect(triage.waitingForTokens == 2 && triage.settled.retryInMs == 7_000)
        let none = ClaimTriage(job, claims: claims, grant: .init(granted: 0, waitMs: 0), routeKnown: true, maxBatch: 100)
        #expect(none.requests.isEmpty && none.waitingForTokens == 3 && none.settled.retryInMs == 5_000)
    }

    @Test("a batch whose state Redis does not vouch for sends nothing and records nothing (no claim was taken); it is back in 1 s")
    func unverifiedState() {
        let claims = [DeliveryState.Claim](repeating: .unverified, count: 6)
        let triage = ClaimTriage(job, claims: claims, grant: .init(granted: 6, waitMs: 0), routeKnown: true, maxBatch: 100)
        #expect(triage.requests.isEmpty && triage.settled.entries.isEmpty && triage.settled.rows.isEmpty)
        #expect(triage.settled.retryInMs == 1_000 && triage.waitingForTokens == 0)
    }

    @Test("without a route nothing is sent and every claim is let go for a retry in 2 s")
    func withoutARoute() {
        let triage = ClaimTriage(job, claims: [.go(attempts: 0), .go(attempts: 1)], grant: .init(granted: 2, waitMs: 0), routeKnown: false, maxBatch: 100)
        #expect(triage.requests.isEmpty && positions(triage.settled.entries) == ["unclaimed 0", "unclaimed 1"])
        #expect(triage.settled.retryInMs == 2_000)
    }

    @Test("recipients bound for another send-config this round are let go, unspent, until their config is due; the rest go")
    func boundElsewhere() {
        var way = FailoverRoute(own: "c1")
        way.destination = "fallback"
        way.elsewhere = [4, 5]
        way.elsewhereRetryMs = 7_000
        let triage = ClaimTriage(job, claims: claims, grant: .init(granted: 6, waitMs: 0), routeKnown: true, maxBatch: 100, route: way)
        #expect(triage.requests.joined().map(\.recipient.position) == [0])
        #expect(positions(triage.settled.entries) == ["final 2 cancelled", "unclaimed 4", "unclaimed 5"])
        #expect(triage.settled.retryInMs == 7_000 && triage.waitingForTokens == 0)
    }

    @Test("fresh recipients are cut into requests of the provider's largest batch")
    func cutByMaxBatch() {
        let fresh = [DeliveryState.Claim](repeating: .go(attempts: 0), count: 5)
        let triage = ClaimTriage(job, claims: fresh, grant: .init(granted: 5, waitMs: 0), routeKnown: true, maxBatch: 2)
        #expect(triage.requests.map { $0.map(\.recipient.position) } == [[0, 1], [2, 3], [4]])
    }

    @Test("a request that may have been delivered unanswered is sent again whole and in its order, first, even past the grant")
    func repeatedWhole() {
        let group = [2, 0, 1]
        let claims: [DeliveryState.Claim] = [.go(attempts: 1, group: group), .go(attempts: 1, group: group), .go(attempts: 1, group: group),
                                             .go(attempts: 0), .go(attempts: 0), .go(attempts: 0)]
        let triage = ClaimTriage(job, claims: claims, grant: .init(granted: 1, waitMs: 300), routeKnown: true, maxBatch: 3)
        #expect(triage.requests.map { $0.map(\.recipient.position) } == [[2, 0, 1]], "never cut to fit the grant: another cut is another key")
        #expect(positions(triage.settled.entries) == ["unclaimed 3", "unclaimed 4", "unclaimed 5"])
        #expect(triage.waitingForTokens == 3 && triage.settled.retryInMs == 300)
        // The repeat may take more than the grant gave: the fresh wait then, so a chunk overruns by one request at most.
        let more = ClaimTriage(job, claims: claims, grant: .init(granted: 5, waitMs: 0), routeKnown: true, maxBatch: 3)
        #expect(more.requests.map { $0.map(\.recipient.position) } == [[2, 0, 1]] && more.waitingForTokens == 3)
        let none = ClaimTriage(job, claims: claims, grant: .init(granted: 0, waitMs: 900), routeKnown: true, maxBatch: 3)
        #expect(none.requests.isEmpty && none.waitingForTokens == 6 && none.settled.retryInMs == 900)
    }

    @Test("a request with a member held by another worker waits whole; one with a member decided is repeated without it; one the provider no longer takes whole is grouped anew")
    func repeatedOrRegrouped() {
        let held: [DeliveryState.Claim] = [.go(attempts: 1, group: [0, 1]), .busy, .go(attempts: 0)]
        let waiting = ClaimTriage(job, claims: held, grant: .init(granted: 3, waitMs: 0), routeKnown: true, maxBatch: 100)
        #expect(waiting.requests.map { $0.map(\.recipient.position) } == [[2]])
        #expect(positions(waiting.settled.entries) == ["unclaimed 0"] && waiting.settled.retryInMs == 5_000)
        // Position 2 was refused by the plugin when the request went out: refused again, the plugin carries 0 and 1 as it did.
        let decided: [DeliveryState.Claim] = [.go(attempts: 1, group: [1, 2, 0]), .go(attempts: 1, group: [1, 2, 0]),
                                              .done(.failed(reason: "invalid address")), .go(attempts: 0)]
        let repeated = ClaimTriage(job, claims: decided, grant: .init(granted: 3, waitMs: 0), routeKnown: true, maxBatch: 100)
        #expect(repeated.requests.map { $0.map(\.recipient.position) } == [[1, 0]])
        let tooLarge = ClaimTriage(job, claims: decided, grant: .init(granted: 3, waitMs: 0), routeKnown: true, maxBatch: 2)
        #expect(tooLarge.requests.map { $0.map(\.recipient.position) } == [[3, 0], [1]], "a request of 3 where 2 is the most is cut anew")
        // A request of one is repeated alone: in a batch its message would carry the batch's key, not its own.
        let single: [DeliveryState.Claim] = [.go(attempts: 1, group: [0]), .go(attempts: 0), .go(attempts: 0)]
        let alone = ClaimTriage(job, claims: single, grant: .init(granted: 3, waitMs: 0), routeKnown: true, maxBatch: 100)
        #expect(alone.requests.map { $0.map(\.recipient.position) } == [[0]] && alone.waitingForTokens == 2 && alone.batches)
    }
}
