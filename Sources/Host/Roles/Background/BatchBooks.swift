import Persistence

/// The batches as the background role keeps them (the batches table in a process).
public protocol BatchBooks: Sendable {
    /// Stores the hot counters and returns where each batch stands.
    func sync(_ counters: [String: BatchCounters]) async throws -> [BatchLedger.Progress]
    /// processing → completed, once no recipient row still waits; false when it did not move.
    func complete(batchID: String) async throws -> Bool
    /// Processing batches without progress for `quietMs`.
    func stuck(quietMs: Int64) async throws -> [(id: String, userID: String)]
    /// The batches being sent now.
    func inProgress() async throws -> [String]
    /// Starts a stuck batch's expansion over; the recovery's number, nil when it is no longer processing.
    func restartExpansion(batchID: String) async throws -> Int?
}
