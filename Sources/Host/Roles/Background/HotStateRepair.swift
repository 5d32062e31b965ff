/// The hot state rebuilt from the rows after Redis restarted or lost data (Redis, PostgreSQL and the tenants'
/// queues in a process).
public protocol HotStateRepair: Sendable {
    /// The epoch now, the batches a claim found unvouched for, and whether every batch in progress is.
    func unverified() async throws -> (epoch: String, everything: Bool, batches: [String])
    /// Outcomes put back from the batch's rows, counters tallied, the batch vouched for.
    func rebuild(batchID: String) async throws
    /// What else lived only in Redis put back: the limit overrides, the tenants with work.
    func restoreShared() async throws
    /// Every batch in progress was rebuilt in `epoch` but `pending`, which are named for a rebuild of their own.
    func rebuiltEverything(epoch: String, pending: [String]) async throws
}
