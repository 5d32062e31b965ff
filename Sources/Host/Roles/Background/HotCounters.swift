import Persistence

/// The pipeline's hot state of active batches, as the background role reads and retires it (Redis in a process).
public protocol HotCounters: Sendable {
    func activeBatches() async throws -> [String]
    func counters(_ batchIDs: [String]) async throws -> [String: BatchCounters]
    /// No longer synced; its state expires later.
    func retire(_ batchID: String) async throws
    func activate(_ batchID: String) async throws
    /// Claims of the batch see its cancel from now on; how many of its recipients are claimed right now.
    @discardableResult
    func cancel(_ batchID: String, nowMs: Int64) async throws -> Int
    /// Claims of the batch see its pause or resume from now on, unless a later one was written already.
    func rewritePause(_ batchID: String, _ pause: DeliveryState.Pause) async throws
}
