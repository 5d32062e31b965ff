import Background
import Discoverer
import Persistence
import Processor
import ProviderInstances
import Sender

// The stores a process builds are what the roles' small protocols describe: said here, in the composition
// root, so that neither side names the other.

extension BatchLedger: QueuedBatches, BatchBooks, ExpansionBooks, OutcomeBooks, AttachmentSource, RouteBook {}

extension DeliveryState: BatchActivating, HotCounters, ExpansionState, ClaimBook {}

extension RateBuckets: RateLimiting {}

extension SendConfigInstances: RouteResolving {}

extension WebhookDeadLetters: Pruning {}

extension TenantRegistry: TenantDirectory {
    public func tenants() async throws -> [(userID: String, announcedMs: Int64)] { try await all() }
}
