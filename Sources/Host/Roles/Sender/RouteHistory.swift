import Domain
import HostCore
import Logging

/// Writes each switch of a batch's messages between its own send-config and a fallback into the batch's history
/// (`RouteBook`) and the metric `batch_route_switches_total`. What each batch went through last is remembered,
/// so a round that changes nothing writes nothing.
actor RouteHistory {
    private let book: any RouteBook
    private let logger: Logger
    /// Batch → the config its messages went through last ("" for its own), as written.
    private var known = BoundedTable<String, String>(capacity: 10_000)

    init(book: any RouteBook, logger: Logger) {
        self.book = book
        self.logger = logger
    }

    /// The batch's messages went through `via` this round (`own` when not failed over). `providers`: each config's
    /// provider, for the log and the metric. A batch not seen before is taken to go through its own config, so a
    /// batch that never fails over costs no write.
    func note(batchID: String, userID: String, own: String, via: String, providers: [String: String]) async {
        let key = via == own ? "" : via
        let previous = known[batchID] ?? ""
        guard previous != key else { return }
        let type = key.isEmpty ? BatchEventType.failback : .failover
        let from = providers[previous.isEmpty ? own : previous] ?? "", to = providers[via] ?? ""
        let detail = key.isEmpty
            ? "\(providers[own] ?? "") answers again: messages go through the batch's own send-config"
            : "\(providers[own] ?? "") is not answering: unsent messages go through the fallback send-config \(via) (\(to))"
        do {
            let switched = try await book.switchRoute(batchID: batchID, via: key.isEmpty ? nil : via, detail: detail)
            known[batchID] = key
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
