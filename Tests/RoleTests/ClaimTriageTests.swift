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
        let triage = ClaimTriage(job, claims: claims, grant: .init(granted: 3, waitMs: 40), routeKnown: true)
        #expect(triage.send.map(\.recipient.position) == [0, 4, 5] && triage.send.map(\.attempts) == [0, 2, 1])
        #expect(triage.settled.rows.map(\.position) == [1, 2] && triage.settled.rows.map(\.status) == [.sent, .cancelled])
        #expect(positions(triage.settled.entries) == ["final 2 cancelled"])
        #expect(triage.settled.retryInMs == 5_000 && triage.waitingForTokens == 0)
    }

    @Test("what the grant does not cover is let go, unspent, until the bucket's appointment")
    func beyondTheGrant() {
        let triage = ClaimTriage(job, claims: claims, grant: .init(granted: 1, waitMs: 7_000), routeKnown: true)
        #expect(triage.send.map(\.recipient.position) == [0])
        #expect(positions(triage.settled.entries) == ["final 2 cancelled", "unclaimed 4", "unclaimed 5"])
        #expect(triage.waitingForTokens == 2 && triage.settled.retryInMs == 7_000)
        let none = ClaimTriage(job, claims: claims, grant: .init(granted: 0, waitMs: 0), routeKnown: true)
        #expect(none.send.isEmpty && none.waitingForTokens == 3 && none.settled.retryInMs == 5_000)
    }

    @Test("without a route nothing is sent and every claim is let go for a retry in 2 s")
    func withoutARoute() {
        let triage = ClaimTriage(job, claims: [.go(attempts: 0), .go(attempts: 1)], grant: .init(granted: 2, waitMs: 0), routeKnown: false)
        #expect(triage.send.isEmpty && positions(triage.settled.entries) == ["unclaimed 0", "unclaimed 1"])
        #expect(triage.settled.retryInMs == 2_000)
    }
}
