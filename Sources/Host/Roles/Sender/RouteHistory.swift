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

    /// The batch's messages went through `via` this round (`own` when not failed over).
    func note(batchID: String, userID: String, own: String, via: String, providers: (from: String, to: String)) async {
        let key = via == own ? "" : via
        guard known[batchID] != key else { return }
        let type = key.isEmpty ? BatchEventType.failback : .failover
        let detail = key.isEmpty
            ? "\(providers.from) answers again: messages go through the batch's own send-config"
            : "\(providers.from) is not answering: unsent messages go through the fallback send-config \(via) (\(providers.to))"
        do {
            let switched = try await book.switchRoute(batchID: batchID, via: key.isEmpty ? nil : via, detail: detail)
            known[batchID] = key
            guard switched else { return }
            SenderMetrics.routeSwitch(from: key.isEmpty ? providers.to : providers.from, to: key.isEmpty ? providers.from : providers.to, type)
            logger.notice("batch route switched", metadata: ["batch": "\(batchID)", "user": "\(userID)", "type": "\(type.rawValue)",
                                                           "sendConfig": "\(via)"])
        } catch {
            // The history misses a switch; the sends themselves are recorded. The next round tries again.
            logger.warning("batch route switch not recorded", metadata: ["batch": "\(batchID)", "error": "\(error)"])
        }
    }
}
