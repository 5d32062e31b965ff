/// The tenants' own queues, as the background role removes the idle ones (the tenant registry in Redis and
/// each tenant's JetStream consumer, in a process).
public protocol TenantQueueKeeping: Sendable {
    /// Every announced tenant, with when it was last announced (Unix ms).
    func tenants() async throws -> [(userID: String, announcedMs: Int64)]
    /// Whether the tenant's queue holds jobs (waiting or unacknowledged); nil when it cannot be read now.
    func hasWork(userID: String) async throws -> Bool?
    /// Forgets the tenant if it was not announced again since `announcedMs`; false when it was.
    func forget(userID: String, ifAnnouncedAt announcedMs: Int64) async throws -> Bool
    func removeQueue(userID: String) async throws
    func restoreQueue(userID: String) async throws
}

/// Drops what is kept past its time (webhook dead letters past their 30 days); returns how many went.
public protocol Pruning: Sendable {
    func prune() async throws -> Int
}
