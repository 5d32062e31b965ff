import Domain
import HostCore
import Logging
import Messaging
import Persistence
import ServiceLifecycle

/// The background role (leader only): rebuilds from the rows the hot state of
/// batches that Redis lost (or may have lost) outcomes of, syncs the hot counters from Redis to
/// PostgreSQL every ~2 s, completes batches whose every recipient has an
/// outcome (`BatchSettlement`), retires finished batches' hot state, and resumes batches that
/// made no progress for `stuckAfterMs` (stuck-batch recovery), removes
/// the queues of tenants idle for `tenantIdleMs`, and drops webhook dead letters
/// past their 30 days (here rather than in the webhook rounds that keep them).
public struct BackgroundJobs: Service {
    let books: any BatchBooks
    let hot: any HotCounters
    let repair: any HotStateRepair
    let tenants: any TenantQueueKeeping
    let deadLetters: any Pruning
    let publisher: any JobPublishing
    let leadership: any Leadership
    let clock: any WallClock
    let settings: PipelineSettings
    let logger: Logger

    public init(books: any BatchBooks, hot: any HotCounters, repair: any HotStateRepair, tenants: any TenantQueueKeeping, deadLetters: any Pruning,
                publisher: any JobPublishing, leadership: any Leadership, clock: any WallClock, settings: PipelineSettings, logger: Logger) {
        self.books = books
        self.hot = hot
        self.repair = repair
        self.tenants = tenants
        self.deadLetters = deadLetters
        self.publisher = publisher
        self.leadership = leadership
        self.clock = clock
        self.settings = settings
        self.logger = logger.role("background")
    }

    public func run() async throws {
        var lastRecovery = clock.nowMilliseconds
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if await leadership.hold() {
                do { try await tick(lastRecovery: &lastRecovery) } catch {
                    logger.warning("background jobs wait for their servers", metadata: ["error": "\(error)"])
                }
            }
            await clock.sleep(milliseconds: settings.syncIntervalMs)
        }
        // A last sync, so that counters stand where the work stopped.
        if await leadership.hold() { try? await syncCounters() }
        await leadership.release()
    }

    /// One round of the leader's work: repairs and the counters every time, recovery and pruning every
    /// `recoveryIntervalMs`.
    public func tick(lastRecovery: inout Int64) async throws {
        try await repairHotState()
        try await syncCounters()
        let now = clock.nowMilliseconds
        guard now - lastRecovery >= settings.recoveryIntervalMs else { return }
        lastRecovery = now
        try await recoverStuck()
        try await removeIdleTenants()
        _ = try await deadLetters.prune()
    }

    /// Redis restarted or lost data (its epoch changed), or claims found batches whose state it does not vouch
    /// for: their outcomes are put back from the rows before any of their recipients is claimed again (a
    /// recipient whose outcome was lost would be sent twice), their counters tallied again (outcomes acked but lost
    /// would keep a batch from completing), and what else lived only in Redis is put back.
    public func repairHotState() async throws {
        let (epoch, everything, lost) = try await repair.unverified()
        // The batches claims are waiting on first.
        var order = lost.sorted()
        var sharedRestored = true
        if everything {
            logger.warning("Redis restarted or lost its data: the hot state of every batch in progress is rebuilt from its rows")
            do { try await repair.restoreShared() } catch {
                sharedRestored = false
                logger.warning("limit overrides and tenants not put back yet; tried again", metadata: ["error": "\(error)"])
            }
            // Cancelled and failed batches still synced may have outcomes in flight too.
            order += Set(try await books.inProgress() + hot.activeBatches()).subtracting(lost).sorted()
        }
        // One batch that cannot be rebuilt now is tried again next tick, alone; it holds back neither the others
        // nor the counters' sync.
        var pending: [String] = []
        for batchID in order {
            do {
                try await repair.rebuild(batchID: batchID)
                logger.info("batch's hot state rebuilt from its rows", metadata: ["batch": "\(batchID)"])
            } catch {
                pending.append(batchID)
                logger.warning("batch's hot state not rebuilt yet; tried again", metadata: ["batch": "\(batchID)", "error": "\(error)"])
            }
        }
        if everything && sharedRestored { try await repair.rebuiltEverything(epoch: epoch, pending: pending) }
    }

    public func syncCounters() async throws {
        let active = try await hot.activeBatches()
        guard !active.isEmpty else { return }
        // Counters Redis does not vouch for (the batch's state is to be rebuilt) would store a regression.
        let counters = try await hot.counters(active).filter(\.value.trusted)
        let progress = try await books.sync(counters)
        let seen = Set(progress.map(\.id))
        for gone in active where counters[gone] != nil && !seen.contains(gone) { try await hot.retire(gone) }
        for batch in progress {
            guard let status = batch.batchStatus else { continue }
            // A cancel whose flag did not reach Redis (the cancel answered 503) still stops the senders.
            if status == .cancelled { try await hot.cancel(batch.id, nowMs: clock.nowMilliseconds) }
            // So does a pause or resume whose flag did not (it answered 503); an older word never overwrites a newer.
            // One that fails now is written next sync, and holds back no other batch's completion.
            if batch.pause.version > 0 {
                do { try await hot.rewritePause(batch.id, batch.pause) } catch {
                    logger.warning("a batch's pause flag not written again yet", metadata: ["batch": "\(batch.id)", "error": "\(error)"])
                }
            }
            switch BatchSettlement.of(status: status, expanded: batch.expanded, decided: counters[batch.id]?.decided ?? 0,
                                      owed: batch.owed, quietMs: batch.quietMs, claimHoldMs: settings.claimHoldMs) {
            case .complete:
                if try await books.complete(batchID: batch.id) {
                    logger.info("batch completed", metadata: ["batch": "\(batch.id)"])
                    try await hot.retire(batch.id)
                }
            case .retire: try await hot.retire(batch.id)
            case .keep: continue
            }
        }
    }

    /// A tenant whose queue is read empty and who started nothing for `tenantIdleMs` loses its consumer. A
    /// tenant announced again meanwhile keeps it; one announced while it was being removed gets it back.
    public func removeIdleTenants() async throws {
        let now = clock.nowMilliseconds
        for (userID, announcedMs) in try await tenants.tenants() where now - announcedMs >= settings.tenantIdleMs {
            guard await readsEmpty(userID) else { continue }
            guard try await tenants.forget(userID: userID, ifAnnouncedAt: announcedMs) else { continue }
            try await tenants.removeQueue(userID: userID)
            if try await tenants.tenants().contains(where: { $0.userID == userID }) {
                try await tenants.restoreQueue(userID: userID)
            }
            logger.info("idle tenant's queue removed", metadata: ["tenant": "\(userID)"])
        }
    }

    /// Whether the tenant's queue was read and holds nothing. A queue that cannot be read now (NATS away, a
    /// timeout) may hold the tenant's next jobs: forgetting the tenant would leave them unserved until a
    /// batch of its own announces it again, so it is kept and looked at again next interval.
    func readsEmpty(_ userID: String) async -> Bool {
        let reason: String
        do {
            if let work = try await tenants.hasWork(userID: userID) { return !work }
            reason = "not readable now"
        } catch {
            reason = "\(error)"
        }
        logger.warning("idle tenant's queue kept: its backlog cannot be read", metadata: ["tenant": "\(userID)", "error": "\(reason)"])
        return false
    }

    /// Restarts the batches quiet for `stuckAfterMs` whose chunks no sender handled lately and none is due
    /// back later (`BatchLiveness`): one waiting on its limits is left to wait.
    public func recoverStuck() async throws {
        let quiet = try await books.stuck(quietMs: settings.stuckAfterMs)
        guard !quiet.isEmpty else { return }
        let counters = try await hot.counters(quiet.map(\.id))
        let now = clock.nowMilliseconds
        for batch in quiet {
            let seen = counters[batch.id] ?? BatchCounters()
            guard BatchLiveness.isStuck(nowMs: now, lastHandledMs: Int64(seen.lastOutcomeMs), dueMs: Int64(seen.dueMs),
                                        stuckAfterMs: settings.stuckAfterMs) else { continue }
            // One that cannot be resumed now is looked at again next interval; the others are resumed.
            do {
                // Outcomes Redis lost would keep it short of what it owes for good: its counters are tallied anew.
                try await repair.rebuild(batchID: batch.id)
                guard let round = try await books.restartExpansion(batchID: batch.id) else { continue }
                try await hot.activate(batch.id)
                try await publisher.publish([BatchJob(batchID: batch.id, round: round).message])
                logger.warning("stuck batch resumed", metadata: ["batch": "\(batch.id)", "recovery": "\(round)"])
            } catch {
                logger.warning("stuck batch not resumed yet", metadata: ["batch": "\(batch.id)", "error": "\(error)"])
            }
        }
    }
}
