import Domain
import Persistence

/// Rebuilds a batch's hot state in Redis from its recipient rows, the truth Redis is a fast copy of: after Redis
/// lost data or restarted (the claims found the batch unvouched for), for a stuck batch, and for a dead letter
/// re-driven after its batch's state expired. The rows trail Redis by one write, so outcomes are only ever added
/// (what Redis holds stays), and the counters are then tallied from what is held; both are safe beside senders
/// recording at the same time.
package struct HotStateRebuild: Sendable {
    let ledger: BatchLedger
    let delivery: DeliveryState

    package init(ledger: BatchLedger, delivery: DeliveryState) {
        self.ledger = ledger
        self.delivery = delivery
    }

    /// Binds each waiting recipient a provider may have taken to the config it went out through (`FailoverRoute`),
    /// from its row: after Redis lost the requests that said so, and after a retry or a redrive forgot them.
    package func pinAgain(batchID: String) async throws {
        var cursor = 0
        while true {
            let page = try await ledger.pinned(batchID: batchID, after: cursor, limit: 10_000)
            guard let last = page.last else { break }
            try await delivery.pin(batchID, page)
            cursor = last.position
        }
    }

    /// A batch that does not exist (a job outlived it) is vouched for as cancelled: its jobs' recipients come
    /// back cancelled and the jobs are settled, rather than asking for a rebuild forever.
    package func rebuild(batchID: String) async throws {
        // A Redis that restarts again in the middle voids the pages put back: the rebuild starts over.
        for _ in 1...3 {
            let epoch = try await delivery.epoch()
            guard let standing = try await ledger.standing(batchID: batchID) else {
                if try await delivery.seal(batchID, epoch: epoch, suppressedAtUpload: 0, cancelled: true) { return }
                continue
            }
            var cursor = 0
            while true {
                let page = try await ledger.decided(batchID: batchID, after: cursor, limit: 10_000)
                guard let last = page.last else { break }
                try await delivery.restore(batchID, outcomes: page)
                cursor = last.position
            }
            try await pinAgain(batchID: batchID)
            if try await delivery.seal(batchID, epoch: epoch, suppressedAtUpload: standing.suppressedAtUpload,
                                       cancelled: standing.status == .cancelled, pause: standing.pause) {
                return
            }
        }
        throw RebuildInterrupted(batchID: batchID)
    }
}

/// Redis restarted three times during one rebuild.
package struct RebuildInterrupted: Error, CustomStringConvertible {
    let batchID: String
    package var description: String { "batch \(batchID): Redis restarted during each of three rebuilds of its state; it is tried again" }
}
