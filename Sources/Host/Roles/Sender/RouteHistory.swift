import Domain
import HostCore
import Logging

/// Writes each switch of a batch's messages between its own send-config and a fallback into the batch's history
/// (`RouteBook`) and the metric `batch_route_switches_total`. What each batch went through last is remembered,
/// so a round that changes nothing writes nothing.
///
/// Rounds run side by side and end in any order: one that chose the fallback just before the provider answered
/// again may end after one that chose the batch's own config since. Each round takes a `decision` number when it
/// chooses, and a round that chose before the batch's last noted one says nothing of where the batch goes now:
/// without that, the history showed failover and failback alternating a few milliseconds apart.
actor RouteHistory {
    private let book: any RouteBook
    private let logger: Logger
    /// Batch → the config its messages went through last ("" for its own), as written, and the decision that chose it.
    private var known = BoundedTable<String, (via: String, decision: UInt64)>(capacity: 10_000)
    private var decisions: UInt64 = 0

    init(book: any RouteBook, logger: Logger) {
        self.book = book
        self.logger = logger
    }

    /// A number for a round about to choose its routes, greater than any before it.
    func decision() -> UInt64 {
        decisions += 1
        return decisions
    }

    /// The batch's messages went through `via` this round (`own` when not failed over), as the round chose at
    /// `decision`. `providers`: each config's provider, for the log and the metric. A batch not seen before is taken
    /// to go through its own config, so a batch that never fails over costs no write.
    func note(batchID: String, userID: String, own: String, via: String, decision: UInt64, providers: [String: String]) async {
        let key = via == own ? "" : via
        let last = known[batchID]
        if let last, last.decision > decision { return }
        let previous = last?.via ?? ""
        guard previous != key else {
            known[batchID] = (key, decision)
            return
        }
        let type = key.isEmpty ? BatchEventType.failback : .failover
        let from = providers[previous.isEmpty ? own : previous] ?? "", to = providers[via] ?? ""
        let detail = key.isEmpty
            ? "\(providers[own] ?? "") answers again: messages go through the batch's own send-config"
            : "\(providers[own] ?? "") is not answering: unsent messages go through the fallback send-config \(via) (\(to))"
        do {
            let switched = try await book.switchRoute(batchID: batchID, via: key.isEmpty ? nil : via, detail: detail)
            // A later decision noted while this one was written wins.
            if (known[batchID]?.decision ?? 0) <= decision { known[batchID] = (key, decision) }
            guard switched else { return }
            SenderMetrics.routeSwitch(from: from, to: to, type)
            logger.notice("batch route switched", metadata: ["batch": "\(batchID)", "user": "\(userID)", "type": "\(type.rawValue)",
                                                           "sendConfig": "\(via)"])
        } catch {
            // The history misses a switch; the sends themselves are recorded. The next round tries again.
            logger.warning("batch route switch not recorded", metadata: ["batch": "\(batchID)", "error": "\(error)"])
        }
    }
}
