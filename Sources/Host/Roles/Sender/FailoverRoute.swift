import Domain
import Persistence

/// Which send-config a chunk's requests go through this round, when its own config names fallbacks.
///
/// A recipient no provider may have taken yet (no attempt used, no request written down) goes through the
/// chunk's own config while its circuit lets requests through, and through the first fallback a request could
/// go to (closed, or due for its probe) while it does not. A recipient some provider may have taken is pinned to it: one with a request
/// written down goes where that request went (`Claim.go`'s `via`, the batch's own config when none), one with
/// an attempt used goes through the batch's own config: a lost answer is resolved by repeating the request
/// there under the same key, never by handing the message to a second provider, which would deliver it twice.
///
/// One config per chunk per round: the one with the most recipients among those whose circuit lets requests
/// through (the chunk's own first on a tie), or, when none does, the one with the most recipients (its circuit
/// then holds them, or probes). Recipients bound elsewhere are let go for the round, unspent.
struct FailoverRoute: Equatable {
    /// The config the chunk's requests go through this round.
    var destination: String
    /// Positions claimed for another config: let go this round, spending nothing.
    var elsewhere: Set<Int> = []
    /// When those are worth claiming again: soon when their config lets requests through, after a circuit's wait
    /// when it does not.
    var elsewhereRetryMs: Int64 = 0
    /// Whether the destination is the batch's route for its unsent recipients (its own config, or the fallback
    /// standing in for it), rather than where earlier requests are repeated: only such a round says which way the
    /// batch goes now, in its history.
    var routesFresh = true
    /// Whether its requests are written down naming the config they go through, even a request of one: the chunk's
    /// config names fallbacks, or the chunk goes through one.
    var bindsRequests = false

    /// How soon recipients bound for another config that is answering come back.
    static let elsewhereRetryMs: Int64 = 250

    /// The chunk's own config, with nothing to decide.
    init(own sendConfigID: String) { destination = sendConfigID }

    /// - Parameters:
    ///   - own: the chunk's send-config; `admission`: what its circuit said; `ownClosed`: whether that circuit is
    ///     closed (one that gave up holding lets everything through, though its provider still fails: a fallback
    ///     takes the unsent recipients then too).
    ///   - fallbacks: the fallbacks its config names, in order.
    ///   - available: whether a chunk could send through a config now (resolved, and `CircuitBreaker.mayTry`).
    init(own: String, admission: CircuitBreaker.Admission, ownClosed: Bool = true, fallbacks: [String], available: (String) -> Bool,
         positions: [Int], claims: [DeliveryState.Claim]) {
        let ownLets = switch admission {
        case .probe: true
        case .send: ownClosed
        case .wait: false
        }
        let standIn = ownLets ? nil : fallbacks.first(where: available)
        var bound: [(config: String, positions: [Int])] = []
        for (position, claim) in zip(positions, claims) {
            guard case .go(let attempts, let group, let via) = claim else { continue }
            let config = if let via { via } else if attempts > 0 || !group.isEmpty { own } else { standIn ?? own }
            if let index = bound.firstIndex(where: { $0.config == config }) {
                bound[index].positions.append(position)
            } else {
                bound.append((config, [position]))
            }
        }
        func lets(_ config: String) -> Bool { config == own ? ownLets : available(config) }
        // Ties go to the earlier: the chunk's own config is first whenever any recipient is bound to it.
        func most(_ candidates: [(config: String, positions: [Int])]) -> String? {
            candidates.enumerated().max { a, b in
                a.element.positions.count != b.element.positions.count ? a.element.positions.count < b.element.positions.count : a.offset > b.offset
            }?.element.config
        }
        let ordered = bound.filter { $0.config == own } + bound.filter { $0.config != own }
        destination = most(ordered.filter { lets($0.config) }) ?? most(ordered) ?? own
        routesFresh = destination == (standIn ?? own)
        bindsRequests = !fallbacks.isEmpty || destination != own
        let others = bound.filter { $0.config != destination }
        elsewhere = Set(others.flatMap(\.positions))
        if !others.isEmpty {
            elsewhereRetryMs = others.contains { lets($0.config) } ? Self.elsewhereRetryMs : CircuitBreaker.openMs
        }
    }
}
