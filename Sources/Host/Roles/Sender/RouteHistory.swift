import Domain
import HostCore
import Logging

/// Writes each switch of a batch's messages between its own send-config and a fallback into the batch's history
/// (`RouteBook`) and the metric `batch_route_switches_total`. What each batch went through last is remembered,
/// so a round that changes nothing writes nothing.
///
/// Rounds run side by side and end in any order: one that chose the fallback just before the provider answered
/// again may end after one that chose the batch's own config since. Each round takes a `decision` number before it
/// asks the circuits where to go, and once a batch has switched, a round that chose before its last noted one says
/// nothing of where it goes now: without that, the history showed failover and failback alternating a few
/// milliseconds apart. The switches are written one at a time, in the order they were noted, so that the row's
/// route ends as the last noted round found it.
actor RouteHistory {
    private let book: any RouteBook
    private let logger: Logger
    /// Batch → the config its messages went through last ("" for its own), as noted, and the decision that chose it;
    /// only batches that have switched (a bounded table: the oldest switched batch leaves first).
    private var known = BoundedTable<String, (via: String, decision: UInt64)>(capacity: 10_000)
    private var decisions: UInt64 = 0
    /// The last switch written or being written (whether it changed the row): the next one waits for it.
    private var writing: Task<Result<Bool, any Error>, Never>?
    /// A route no config has: a batch whose last switch was not written is marked with it, so its next round writes.
    private static let unwritten = "\u{0}unwritten"

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
            if last != nil { known[batchID] = (key, decision) }
            return
        }
        // Noted before the write, which suspends: a round noted meanwhile compares itself with this one.
        known[batchID] = (key, decision)
        let type = key.isEmpty ? BatchEventType.failback : .failover
        let from = providers[previous.isEmpty ? own : previous] ?? "", to = providers[via] ?? ""
        let detail = key.isEmpty
            ? "\(providers[own] ?? "") answers again: messages go through the batch's own send-config"
            : "\(providers[own] ?? "") is not answering: unsent messages go through the fallback send-config \(via) (\(to))"
        let before = writing, book = self.book
        let write = Task {
            _ = await before?.value
            do { return Result<Bool, any Error>.success(try await book.switchRoute(batchID: batchID, via: key.isEmpty ? nil : via, detail: detail)) } catch {
                return .failure(error)
            }
        }
        writing = write
        switch await write.value {
        case .success(let switched):
            guard switched else { return }
            SenderMetrics.routeSwitch(from: from, to: to, type)
            logger.notice("batch route switched", metadata: ["batch": "\(batchID)", "user": "\(userID)", "type": "\(type.rawValue)",
                                                           "sendConfig": "\(via)"])
        case .failure(let error):
            // The history misses a switch; the sends themselves are recorded. The batch's next round writes its route.
            // Unless a round noted since goes elsewhere: its own write, queued behind this one, sets the row.
            if let now = known[batchID], now.via == key { known[batchID] = (Self.unwritten, now.decision) }
            logger.warning("batch route switch not recorded", metadata: ["batch": "\(batchID)", "error": "\(error)"])
        }
    }
}
