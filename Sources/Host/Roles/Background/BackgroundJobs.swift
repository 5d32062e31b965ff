import Analytics
import Domain
import HostCore
import Logging
import Messaging
import Persistence
import Pipeline
import ServiceLifecycle

/// The background role (leader only): syncs the hot counters from Redis to
/// PostgreSQL every ~2 s, completes batches whose every recipient has an
/// outcome, retires finished batches' hot state, and resumes batches that
/// made no progress for `stuckAfterMs` (stuck-batch recovery), removes
/// the queues of tenants idle for `tenantIdleMs`, and drops webhook dead letters
/// past their 30 days (here rather than in the webhook rounds that keep them).
public struct BackgroundJobs: Service {
    let resources: PipelineResources
    let logger: Logger
    var settings: PipelineSettings { resources.settings }

    public init(resources: PipelineResources) {
        self.resources = resources
        logger = resources.logger.role("background")
    }

    public func run() async throws {
        let lease = resources.lease("background")
        var lastRecovery = SystemClock.nowMilliseconds
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if await lease.hold() {
                do {
                    try await syncCounters()
                    if SystemClock.nowMilliseconds - lastRecovery >= settings.recoveryIntervalMs {
                        lastRecovery = SystemClock.nowMilliseconds
                        try await recoverStuck()
                        try await removeIdleTenants()
                        try await WebhookDeadLetters(database: resources.database).prune()
                    }
                } catch {
                    logger.warning("background jobs wait for their servers", metadata: ["error": "\(error)"])
                }
            }
            await SystemClock().sleep(milliseconds: settings.syncIntervalMs)
        }
        // A last sync, so that counters stand where the work stopped.
        if await lease.hold() { try? await syncCounters() }
        await lease.release()
    }

    func syncCounters() async throws {
        let active = try await resources.hot.activeBatches()
        guard !active.isEmpty else { return }
        let counters = try await resources.hot.counters(active)
        let progress = try await resources.ledger.sync(counters)
        let seen = Set(progress.map(\.id))
        for gone in active where !seen.contains(gone) { try await resources.hot.retire(gone) }
        for batch in progress {
            switch batch.status {
            case "processing":
                let decided = counters[batch.id]?.decided ?? 0
                guard batch.expanded, decided >= batch.owed else { continue }
                if try await resources.ledger.complete(batchID: batch.id) {
                    logger.info("batch completed", metadata: ["batch": "\(batch.id)"])
                    try await resources.hot.retire(batch.id)
                }
            case "cancelled":
                // Sends in flight at the cancel still record their outcomes; retired once quiet.
                if batch.quietMs > settings.claimHoldMs { try await resources.hot.retire(batch.id) }
            case "completed":
                try await resources.hot.retire(batch.id)
            default:
                continue
            }
        }
    }

    /// A tenant whose queue is empty and who started nothing for `tenantIdleMs` loses its consumer. A
    /// tenant announced again meanwhile keeps it; one announced while it was being removed gets it back.
    func removeIdleTenants() async throws {
        let now = SystemClock.nowMilliseconds
        for (userID, announcedMs) in try await resources.tenants.all() where now - announcedMs >= settings.tenantIdleMs {
            let definition = Streams.tenantConsumer(userID: userID, ackWaitMs: settings.ackWaitMs)
            let backlog = try? await resources.nats { try $0.backlog(stream: definition.stream, consumer: definition.durable) }
            if let backlog, backlog.pending > 0 || backlog.unacked > 0 { continue }
            guard try await resources.tenants.forget(userID, ifAnnouncedAt: announcedMs) else { continue }
            try await resources.nats { try $0.deleteConsumer(stream: definition.stream, durable: definition.durable) }
            if try await resources.tenants.all().contains(where: { $0.userID == userID }) {
                try await resources.nats { try $0.ensureConsumer(definition) }
            }
            logger.info("idle tenant's queue removed", metadata: ["tenant": "\(userID)"])
        }
    }

    func recoverStuck() async throws {
        for batch in try await resources.ledger.stuck(quietMs: settings.stuckAfterMs) {
            guard let round = try await resources.ledger.restartExpansion(batchID: batch.id) else { continue }
            try await resources.hot.activate(batch.id)
            try await resources.nats { try $0.publish([BatchJob(batchID: batch.id, round: round).message]) }
            logger.warning("stuck batch resumed", metadata: ["batch": "\(batch.id)", "recovery": "\(round)"])
        }
    }
}
