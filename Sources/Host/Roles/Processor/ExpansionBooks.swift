import Persistence

/// The batches and recipients as the processor expands them (PostgreSQL in a process).
public protocol ExpansionBooks: Sendable {
    func plan(batchID: String) async throws -> BatchLedger.Plan?
    /// Fails a batch that cannot be sent; the positions of the recipients it failed.
    func fail(batchID: String, reason: String) async throws -> [Int]
    func analyzeRecipients() async throws
    func page(batchID: String, userID: String, after cursor: Int, limit: Int) async throws -> [BatchLedger.PageRow]
    /// Moves the cursor past a page and writes the recipients decided on it; nil when the batch is no longer processing.
    func commitPage(batchID: String, from cursor: Int, to last: Int, decided: [BatchLedger.RowUpdate]) async throws -> [BatchLedger.Written]?
    func finishExpansion(batchID: String) async throws
}

/// The hot state the processor writes: a batch made active, outcomes decided at expansion (suppressed, failed to render).
public protocol ExpansionState: Sendable {
    func activate(_ batchID: String) async throws
    func record(_ entries: [String: [DeliveryState.Entry]], nowMs: Int64) async throws
}
