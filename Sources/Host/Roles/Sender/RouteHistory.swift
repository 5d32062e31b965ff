import Domain
import HostCore
import Logging
import Synchronization

/// Writes each switch of a batch's messages between its own send-config and a fallback into the batch's history
/// (`RouteBook`) and the metric `batch_route_switches_total`. What each batch went through last is remembered,
/// so a round that changes nothing writes nothing.
///
/// Rounds run side by side and end in any order: one that chose the fallback just before the provider answered
/// again may end after one that chose the batch's own config since. Each round takes a `decision` number before it
/// asks the circuits where to go, and once a batch has switched, a round that chose before its last noted one says
/// nothing of where it goes now: without that, the history showed failover and failback alternating a few
/// milliseconds apart. A batch's switches are written one at a time, in the order they were noted, so that its
/// row's route ends as its last noted round found it.
actor RouteHistory {
    private let book: any RouteBook
    private let logger: Logger
    /// Batch → the config its messages went through last ("" for its own), as noted, and the decision that chose it;
    /// only batches that have switched (a bounded table: the oldest switched batch leaves first).
    private var known = BoundedTable<String, (via: String, decision: UInt64)>(capacity: 10_000)
    /// Taken by every round, with or without fallbacks: a counter, not a hop onto the actor.
    private let decisions = Atomic<UInt64>(0)
    /// Each batch's last switch written or being written (whether it changed the row): the batch's next one waits
    /// for it. Other batches' switches do not.
    private var writing: [String: Task<Result<Bool, any Error>, Never>] = [:]
    /// A batch whose switch was not written is marked by the route it had before, behind this prefix (no config's id
    /// starts with it), so that its next round writes whatever it finds.
    private static let unwritten = "\u{0}"

    init(book: any RouteBook, logger: Logger) {
        self.book = book
        self.logger = logger
    }

    /// The route last noted for the batch ("" for its own config), nil for a batch that has not switched.
    func noted(_ batchID: String) -> String? { known[batchID]?.via }

    /// A number for a round about to choose its routes, greater than any before it.
    nonisolated func decision() -> UInt64 {
        decisions.add(1, ordering: .relaxed).newValue
    }

    /// The batch's messages went through `via` this round (`own` when not failed over), as the round chose at
    /// `decision`. `providers`: each config's provider, for the log and the metric. A batch not seen before is taken
    /// to go through its own config, so a batch that never fails over costs no write.
    func note(batchID: String, userID: String, own: String, via: String, decision: UInt64, providers: [String: String]) async {
        let key = via == own ? "" : via
        let last = known[batchID]
        if let last, last.decision > decision { return }
        let previous = last?.via ?? ""
        // What the batch went through before, whether or not its switch to it was written.
        let was = previous.hasPrefix(Self.unwritten) ? String(previous.dropFirst(Self.unwritten.count)) : previous
        guard previous != key else {
            if last != nil { known[batchID] = (key, decision) }
            return
        }
        // Noted before the write, which suspends: a round noted meanwhile compares itself with this one.
        known[batchID] = (key, decision)
        let type = key.isEmpty ? BatchEventType.failback : .failover
        let from = providers[was.isEmpty ? own : was] ?? "", to = providers[via] ?? ""
        let detail = key.isEmpty
            ? "\(providers[own] ?? "") answers again: messages go through the batch's own send-config"
            : "\(providers[own] ?? "") is not answering: unsent messages go through the fallback send-config \(via) (\(to))"
        let before = writing[batchID], book = self.book
        let write = Task {
            _ = await before?.value
            do { return Result<Bool, any Error>.success(try await book.switchRoute(batchID: batchID, via: key.isEmpty ? nil : via, detail: detail)) } catch {
                return .failure(error)
            }
        }
        writing[batchID] = write
        let outcome = await write.value
        if writing[batchID] == write { writing[batchID] = nil }
        switch outcome {
        case .success(let switched):
            guard switched else { return }
            SenderMetrics.routeSwitch(from: from, to: to, type)
            logger.notice("batch route switched", metadata: ["batch": "\(batchID)", "user": "\(userID)", "type": "\(type.rawValue)",
                                                           "sendConfig": "\(via)"])
        case .failure(let error):
            // The history misses a switch; the sends themselves are recorded. The batch's next round writes its route.
            // Unless a round noted since goes elsewhere: its own write, queued behind this one, sets the row.
            if let now = known[batchID], now.via == key { known[batchID] = (Self.unwritten + was, now.decision) }
            logger.warning("batch route switch not recorded", metadata: ["batch": "\(batchID)", "error": "\(error)"])
        }
    }
}
