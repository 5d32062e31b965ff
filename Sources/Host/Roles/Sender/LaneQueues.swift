import Domain
import HostCore
import Logging
import Messaging

/// What one sender lane takes its jobs from: the priority queue first, then each tenant's queue in
/// turn, a fair share of the round from each, starting one tenant further every round. Every fetch
/// takes only what is there (no wait), so an empty tenant costs one round trip, not a timeout.
/// Used by its own lane only, on a storage thread (its fetches block).
final class LaneQueues: @unchecked Sendable {
    private let jetStream: JetStream
    private let ackWaitMs: Int64
    private let fetchBatch: Int
    private let logger: Logger
    private var priority: PullConsumer?
    private var consumers: [String: (consumer: PullConsumer, announcedMs: Int64)] = [:]
    private var tenants: [(userID: String, announcedMs: Int64)] = []
    private var next = 0

    init(jetStream: JetStream, ackWaitMs: Int64, fetchBatch: Int, logger: Logger) {
        self.jetStream = jetStream
        self.ackWaitMs = ackWaitMs
        self.fetchBatch = fetchBatch
        self.logger = logger
    }

    /// The tenants to serve now. A tenant announced again since its consumer was bound is bound
    /// again, so a consumer removed for idleness and made anew is found.
    func serve(_ announced: [(userID: String, announcedMs: Int64)]) {
        tenants = announced
        let current = Dictionary(announced.map { ($0.userID, $0.announcedMs) }, uniquingKeysWith: max)
        consumers = consumers.filter { current[$0.key] == $0.value.announcedMs }
    }

    /// Forgets every binding (after a connection failure).
    func reset() {
        priority = nil
        consumers.removeAll()
    }

    /// One round's jobs: priority messages first, then a share from each tenant.
    func fetch() throws -> [ReceivedMessage] {
        if priority == nil { priority = try jetStream.pullConsumer(Streams.priorityConsumer(ackWaitMs: ackWaitMs)) }
        var jobs = try priority!.fetchAvailable(batch: fetchBatch)
        guard jobs.count < fetchBatch, !tenants.isEmpty else { return jobs }
        let share = max(1, (fetchBatch - jobs.count) / tenants.count)
        var visited = 0
        while visited < tenants.count, jobs.count < fetchBatch {
            let tenant = tenants[(next + visited) % tenants.count]
            visited += 1
            do {
                jobs += try consumer(tenant).fetchAvailable(batch: min(share, fetchBatch - jobs.count))
            } catch {
                // One tenant's consumer failing (removed a moment ago, say) does not stop the others.
                consumers[tenant.userID] = nil
                logger.debug("tenant queue skipped this round", metadata: ["tenant": "\(tenant.userID)", "error": "\(error)"])
            }
        }
        next = (next + visited) % tenants.count
        return jobs
    }

    private func consumer(_ tenant: (userID: String, announcedMs: Int64)) throws -> PullConsumer {
        if let bound = consumers[tenant.userID] { return bound.consumer }
        let made = try jetStream.pullConsumer(Streams.tenantConsumer(userID: tenant.userID, ackWaitMs: ackWaitMs))
        consumers[tenant.userID] = (made, tenant.announcedMs)
        return made
    }
}
