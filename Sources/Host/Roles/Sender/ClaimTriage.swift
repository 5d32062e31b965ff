import Domain
import Persistence

/// What a chunk's claims allow before anything is sent: outcomes already known are written again (the rows
/// may trail Redis), the cancelled are cancelled, those another worker holds come back in 5 s, those of a batch
/// whose state Redis does not vouch for come back in 1 s (it is being rebuilt from the rows), those of a paused
/// batch in 2 s, and the rest
/// go to the provider as far as the limits' grant goes; what the grant does not cover is let go until the
/// bucket's appointment (waiting for tokens is neither an attempt nor a failure). Without a route (the
/// send-config could not be read) nothing is sent and every claim is let go, so the retry is not held off.
///
/// The requests are cut here, once: the sender writes each down before it goes out, and a request tried
/// before is sent again whole, as it was (`Claim.go`'s group), since the provider may have taken it without
/// an answer reaching us: cutting its members into other requests would give them another idempotency key,
/// and the provider would deliver them twice. Such a request goes first and whole
/// as soon as the grant gives anything, even past what it gives (a retry's overrun of at most one request
/// a chunk: fresh recipients wait for the next grant then); members with an outcome by now stay out of it (an
/// address the plugin refused is refused again, so the plugin carries the same messages under the same key),
/// one that cannot be repeated because a member is held elsewhere waits with it, and one that cannot be
/// repeated at all (a member no longer in this chunk, or more members than the provider now takes) is
/// grouped anew.
struct ClaimTriage {
    typealias Claimed = (recipient: ChunkJob.Recipient, attempts: Int)

    /// How often a paused batch's chunk comes back to look: what a resume waits at most before sending again.
    static let pausedRetryMs: Int64 = 2_000

    /// The provider requests to make now, each with the attempts its members have used.
    var requests: [[Claimed]] = []
    /// What is decided without a send: rows written again, cancellations, claims let go, when to come back.
    var settled = ChunkSender.Result()
    /// How many were let go for want of tokens.
    var waitingForTokens = 0
    /// Whether the provider takes several messages a request: only then can a retry be regrouped.
    let batches: Bool

    /// `route`: where the chunk goes this round (`FailoverRoute`); its recipients bound for another config are let go.
    init(_ job: ChunkJob, claims: [DeliveryState.Claim], grant: RateBuckets.Grant, routeKnown: Bool, maxBatch: Int,
         route: FailoverRoute? = nil) {
        batches = maxBatch > 1
        var fresh: [Claimed] = []
        var repeated: [(members: [Int], claimed: [Claimed])] = []
        var busy = Set<Int>(), decided = Set<Int>()
        let elsewhere = route?.elsewhere ?? []
        for (recipient, claim) in zip(job.recipients, claims) {
            if case .go = claim, !elsewhere.isEmpty, elsewhere.contains(recipient.position), let route {
                // Bound for another send-config than this round's (`FailoverRoute`): claimed again when it is due.
                busy.insert(recipient.position)
                settled.entries.append(.unclaimed(position: recipient.position))
                settled.later(route.elsewhereRetryMs)
                continue
            }
            switch claim {
            case .go(let attempts, let group, _) where !group.isEmpty:
                if let index = repeated.firstIndex(where: { $0.members == group }) {
                    repeated[index].claimed.append((recipient, attempts))
                } else {
                    repeated.append((group, [(recipient, attempts)]))
                }
            case .go(let attempts, _, _): fresh.append((recipient, attempts))
            case .done(let outcome):
                decided.insert(recipient.position)
                settled.rows.append(ChunkSender.Result.row(recipient.position, outcome, attempts: 0))
            case .cancelled: settled.final(recipient, .cancelled, attempts: 0)
            case .busy:
                busy.insert(recipient.position)
                settled.later(5_000)
            case .unverified:
                // Not claimed: back once the background role has rebuilt the batch's state (a tick or two).
                busy.insert(recipient.position)
                settled.later(1_000)
            case .paused:
                // Not claimed, nothing used: looked at again every `pausedRetryMs` until the batch is resumed.
                busy.insert(recipient.position)
                settled.later(Self.pausedRetryMs)
            }
        }
        var whole: [[Claimed]] = []
        for (members, claimed) in repeated {
            let order = Dictionary(members.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
            let undecided = Set(members.filter { !decided.contains($0) })
            if undecided == Set(claimed.map(\.recipient.position)), members.count <= max(1, maxBatch) {
                whole.append(claimed.sorted { order[$0.recipient.position, default: 0] < order[$1.recipient.position, default: 0] })
            } else if members.contains(where: busy.contains) {
                // Its other members are still out with another worker: the request is repeated when they come back.
                settled.entries += claimed.map { .unclaimed(position: $0.recipient.position) }
                settled.later(5_000)
            } else {
                fresh += claimed
            }
        }
        guard routeKnown else {
            settled.entries += (whole.flatMap { $0 } + fresh).map { .unclaimed(position: $0.recipient.position) }
            settled.later(2_000)
            return
        }
        var budget = max(0, grant.granted)
        for request in whole {
            guard budget > 0 else {
                settled.entries += request.map { .unclaimed(position: $0.recipient.position) }
                waitingForTokens += request.count
                continue
            }
            requests.append(request)
            budget -= request.count
        }
        // A repeat may have taken more than the grant: the fresh wait, so a chunk overruns by one request at most.
        if !requests.isEmpty { budget = min(budget, 0) }
        let sendable = min(max(0, budget), fresh.count)
        if sendable < fresh.count {
            settled.entries += fresh[sendable...].map { .unclaimed(position: $0.recipient.position) }
            waitingForTokens += fresh.count - sendable
        }
        if waitingForTokens > 0 { settled.later(max(1, grant.waitMs)) }
        let size = max(1, maxBatch)
        requests += stride(from: 0, to: sendable, by: size).map { Array(fresh[$0..<min($0 + size, sendable)]) }
    }
}
