import Domain
import HostCore
import Persistence

/// Pausing and resuming a batch that is on its way. A pause is stored on the batch (`paused_at`), then told to the
/// sender workers through the batch's pause flag in Redis, which every claim reads: from then on no recipient of
/// the batch is claimed, and its chunks come back every 2 s to look again (nothing used, no attempt counted).
/// The answer waits for the sends claimed before the pause to return, as a cancel does, so after it nothing of the
/// batch reaches a provider until it is resumed. Both are idempotent: pausing a paused batch changes nothing (its
/// flag is written again, as the rows say), nor does resuming one that is not paused.
extension BatchService {
    package func pause(userID: String, id: String) async throws(APIError) -> String {
        try await setPaused(userID: userID, id: id, paused: true)
    }

    package func resume(userID: String, id: String) async throws(APIError) -> String {
        try await setPaused(userID: userID, id: id, paused: false)
    }

    private func setPaused(userID: String, id: String, paused: Bool) async throws(APIError) -> String {
        let verb = paused ? "paused" : "resumed"
        let changed = try await database.transaction { db in
            guard let batch = try Batches.setPaused(db, userID: userID, id: id, paused: paused) else {
                throw APIError.notFound("batch \(id)", field: "path.id")
            }
            guard BatchStatus.pausable.contains(batch.status) else {
                throw APIError.conflict("the batch is \(batch.status.rawValue) and cannot be \(verb): only a queued or processing batch can",
                                        field: "path.id")
            }
            if batch.changed { try AuditLog.record(db, userID: userID, action: "batch.\(verb)", subject: "batch", id: id) }
            return DeliveryState.Pause(version: batch.version, paused: batch.paused)
        }
        do { try await tell(id, changed) } catch {
            throw APIError.unavailable("the batch is \(verb) in the database, but the workers could not be told (Redis is unreachable); "
                                       + "retry the request")
        }
        return try await database.run { db in try Batches.detail(db, userID: userID, id: id) } ?? "{}"
    }

    /// Writes the flag; after a pause, waits for the recipients claimed before it to be recorded.
    private func tell(_ id: String, _ pause: DeliveryState.Pause) async throws {
        // A resume has nothing to wait for.
        try await afterClaimsReturn(id) { try await delivery.pause(id, pause, nowMs: $0) * (pause.paused ? 1 : 0) }
    }
}
