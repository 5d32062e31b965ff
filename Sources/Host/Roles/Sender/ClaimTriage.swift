import Domain
import Persistence

/// What a chunk's claims allow before anything is sent: outcomes already known are written again (the rows
/// may trail Redis), the cancelled are cancelled, those another worker holds come back in 5 s, and the rest
/// go to the provider as far as the limits' grant goes; what the grant does not cover is let go until the
/// bucket's appointment (waiting for tokens is neither an attempt nor a failure). Without a route (the
/// send-config could not be read) nothing is sent and every claim is let go, so the retry is not held off.
struct ClaimTriage {
    /// The recipients to send now, with the attempts they have used.
    var send: [(recipient: ChunkJob.Recipient, attempts: Int)] = []
    /// What is decided without a send: rows written again, cancellations, claims let go, when to come back.
    var settled = ChunkSender.Result()
    /// How many were let go for want of tokens.
    var waitingForTokens = 0

    init(_ job: ChunkJob, claims: [DeliveryState.Claim], grant: RateBuckets.Grant, routeKnown: Bool) {
        var claimed: [(recipient: ChunkJob.Recipient, attempts: Int)] = []
        for (recipient, claim) in zip(job.recipients, claims) {
            switch claim {
            case .go(let attempts): claimed.append((recipient, attempts))
            case .done(let outcome): settled.rows.append(ChunkSender.Result.row(recipient.position, outcome, attempts: 0))
            case .cancelled: settled.final(recipient, .cancelled, attempts: 0)
            case .busy: settled.later(5_000)
            }
        }
        guard routeKnown else {
            settled.entries += claimed.map { .unclaimed(position: $0.recipient.position) }
            settled.later(2_000)
            return
        }
        if grant.granted < claimed.count {
            let granted = max(0, grant.granted)
            settled.entries += claimed[granted...].map { .unclaimed(position: $0.recipient.position) }
            waitingForTokens = claimed.count - granted
            settled.later(max(1, grant.waitMs))
            claimed = Array(claimed[..<granted])
        }
        send = claimed
    }
}
