import Background
import HostCore
import Messaging
import Persistence

/// The tenants' own queues as they are in a process: the tenant registry (Redis) says who has work and
/// since when; each tenant's JetStream consumer is its queue. What the processor and sender announce
/// through, and the background role keeps.
public struct TenantQueues: TenantAnnouncing, TenantQueueKeeping {
    let registry: TenantRegistry
    let bus: MessageBus
    let ackWaitMs: Int64
    let clock: any WallClock

    public init(registry: TenantRegistry, bus: MessageBus, ackWaitMs: Int64, clock: any WallClock) {
        self.registry = registry
        self.bus = bus
        self.ackWaitMs = ackWaitMs
        self.clock = clock
    }

    func consumer(_ userID: String) -> ConsumerDefinition { Streams.tenantConsumer(userID: userID, ackWaitMs: ackWaitMs) }

    public func announce(userID: String) async throws {
        try await registry.announce([userID], nowMs: clock.nowMilliseconds)
        let definition = consumer(userID)
        try await bus.run { try $0.ensureConsumer(definition) }
    }

    public func tenants() async throws -> [(userID: String, announcedMs: Int64)] { try await registry.all() }

    public func hasWork(userID: String) async throws -> Bool? {
        let definition = consumer(userID)
        // A tenant without a consumer (never made, or lost with NATS's data) has no queue to hold work.
        guard let backlog = try await bus.run({ try $0.backlog(stream: definition.stream, consumer: definition.durable) }) else { return false }
        return backlog.pending > 0 || backlog.unacked > 0
    }

    public func forget(userID: String, ifAnnouncedAt announcedMs: Int64) async throws -> Bool {
        try await registry.forget(userID, ifAnnouncedAt: announcedMs)
    }

    public func removeQueue(userID: String) async throws {
        let definition = consumer(userID)
        try await bus.run { try $0.deleteConsumer(stream: definition.stream, durable: definition.durable) }
    }

    public func restoreQueue(userID: String) async throws {
        let definition = consumer(userID)
        try await bus.run { try $0.ensureConsumer(definition) }
    }
}
