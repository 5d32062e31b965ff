import Domain
import HostCore
import Messaging
import Persistence

/// Sending a completed batch's failed recipients again: by default those that failed for want of attempts (the
/// provider was down, timed out, answered 5xx each time), with `all` every failed one the provider never accepted.
/// The rows first (`Batches.startRetry`: they wait again with fresh attempts, the batch is processing from its first
/// row under a new retry round), then their outcomes are forgotten in Redis, and only then is the batch job
/// published: no chunk of the retry exists before the claims can take its recipients. If Redis or NATS does not
/// answer, the answer is 503 and stuck-batch recovery starts the batch later; recipients whose outcome Redis still
/// holds are then written failed again as they were, so the batch completes as it stood.
extension BatchService {
    package func retryFailed(userID: String, id: String, all: Bool) async throws(APIError) -> String {
        guard let started = try await database.transaction({ db in
            let started = try Batches.startRetry(db, userID: userID, id: id, all: all)
            if started?.positions.isEmpty == false { try AuditLog.record(db, userID: userID, action: "batch.retried", subject: "batch", id: id) }
            return started
        }) else {
            throw APIError.notFound("batch \(id)", field: "path.id")
        }
        guard started.status == .completed || !started.positions.isEmpty else {
            throw APIError.conflict("the batch is \(started.status.rawValue): only a completed batch's failed recipients can be retried", field: "path.id")
        }
        guard started.configLive else {
            throw APIError.conflict("the batch's send-config was deleted: its recipients cannot be sent again", field: "path.id")
        }
        guard !started.positions.isEmpty else {
            throw APIError.conflict(all ? "the batch has no failed recipient to retry"
                                        : "the batch has no recipient that failed for want of attempts; {\"all\": true} retries every failed one",
                                    field: all ? "path.id" : "all")
        }
        do {
            let ledger = BatchLedger(database: database.pool)
            if !(try await delivery.isTrusted(id)) { try await HotStateRebuild(ledger: ledger, delivery: delivery).rebuild(batchID: id) }
            let outcomes = try await delivery.outcomes(batchID: id, positions: started.positions)
            let failed = outcomes.filter { if case .failed? = $0 { true } else { false } }.count
            try await delivery.forget(batchID: id, positions: started.positions, failedDelta: failed)
            // One a fallback sent goes through it again: another provider might deliver it a second time.
            try await HotStateRebuild(ledger: ledger, delivery: delivery).pinAgain(batchID: id)
            // A pause the batch finished under is over: the senders see it resumed before its job exists.
            try await delivery.pause(id, DeliveryState.Pause(version: started.pauseVersion, paused: false), nowMs: 0)
            let jobs = self.jobs, job = BatchJob(batchID: id, retry: started.round).message
            try await threads.runIfActive { try jobs.publish([job]) }
        } catch {
            throw APIError.unavailable("the retry is stored, but Redis or NATS did not answer; stuck-batch recovery starts the batch "
                                       + "within minutes (recipients it cannot send again fail as they were)")
        }
        return try await database.run { db in try Batches.detail(db, userID: userID, id: id) } ?? "{}"
    }
}
