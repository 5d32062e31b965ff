import Domain
import HostCore
import Logging
import Messaging
import Persistence
import ServiceLifecycle

/// The batch discoverer role (leader only): finds queued batches and scheduled
/// ones now due, publishes a batch job for each, then marks them processing.
/// Publishing comes first: a crash in between publishes again, under the
/// same `Nats-Msg-Id`, which JetStream drops.
public struct BatchDiscoverer: Service {
    let batches: any QueuedBatches
    let active: any BatchActivating
    let publisher: any JobPublishing
    let leadership: any Leadership
    let clock: any WallClock
    let intervalMs: Int64
    let logger: Logger

    public init(batches: any QueuedBatches, active: any BatchActivating, publisher: any JobPublishing, leadership: any Leadership,
                clock: any WallClock, intervalMs: Int64, logger: Logger) {
        self.batches = batches
        self.active = active
        self.publisher = publisher
        self.leadership = leadership
        self.clock = clock
        self.intervalMs = intervalMs
        self.logger = logger.role("discoverer")
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if await leadership.hold() {
                do { try await discover() } catch {
                    logger.warning("discoverer waits for its servers", metadata: ["error": "\(error)"])
                }
            }
            await clock.sleep(milliseconds: intervalMs)
        }
        await leadership.release()
    }

    /// One look: the due batches' jobs published, the batches activated, then marked processing.
    public func discover() async throws {
        let due = try await batches.dueBatches(limit: 100)
        guard !due.isEmpty else { return }
        try await publisher.publish(due.map { BatchJob(batchID: $0.id, retry: $0.retry).message })
        for batch in due { try await active.open(batch.id) }
        let started = try await batches.markProcessing(due.map(\.id))
        if !started.isEmpty { logger.info("batches discovered", metadata: ["batches": "\(started.joined(separator: ","))"]) }
    }
}
