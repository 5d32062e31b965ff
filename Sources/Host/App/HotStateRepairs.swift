import Background
import Messaging
import Persistence
import Services

/// The hot state's repair as it is in a process: batches rebuilt from their rows, the operators' limit
/// overrides and the announcements of tenants with work put back into a Redis that lost them.
public struct HotStateRepairs: HotStateRepair {
    let delivery: DeliveryState
    let ledger: BatchLedger
    let limits: LimitService
    let tenants: any TenantAnnouncing

    package init(delivery: DeliveryState, ledger: BatchLedger, limits: LimitService, tenants: any TenantAnnouncing) {
        self.delivery = delivery
        self.ledger = ledger
        self.limits = limits
        self.tenants = tenants
    }

    public func unverified() async throws -> (epoch: String, everything: Bool, batches: [String]) { try await delivery.unverified() }

    public func rebuild(batchID: String) async throws {
        try await HotStateRebuild(ledger: ledger, delivery: delivery).rebuild(batchID: batchID)
    }

    public func restoreShared() async throws {
        try await limits.restore()
        for userID in try await ledger.tenantsWithBatchesInProgress() { try await tenants.announce(userID: userID) }
    }

    public func rebuiltEverything(epoch: String, pending: [String]) async throws {
        try await delivery.rebuiltEverything(epoch: epoch, pending: pending)
    }
}
