/// The batches waiting to start, as the discoverer sees them (the batches table in a process).
public protocol QueuedBatches: Sendable {
    /// Queued batches whose time has come, oldest first.
    func dueBatches(limit: Int) async throws -> [(id: String, userID: String, retry: Int)]
    /// queued → processing for those still queued; returns those it moved.
    func markProcessing(_ ids: [String]) async throws -> [String]
}

/// Marks a batch new to the pipeline active, so that its counters are kept from now on, and its (empty) hot state
/// vouched for.
public protocol BatchActivating: Sendable {
    func open(_ batchID: String) async throws
}
