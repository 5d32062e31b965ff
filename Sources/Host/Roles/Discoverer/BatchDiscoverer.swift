import Domain
import HostCore
import Logging
import Messaging
import Persistence
import Pipeline
import ServiceLifecycle

/// The batch discoverer role (leader only): finds queued batches and scheduled
/// ones now due, publishes a batch job for each, then marks them processing.
/// Publishing comes first: a crash in between publishes again, under the
/// same `Nats-Msg-Id`, which JetStream drops.
public struct BatchDiscoverer: Service {
    let resources: PipelineResources
    let logger: Logger

    public init(resources: PipelineResources) {
        self.resources = resources
        logger = resources.logger.role("discoverer")
    }

    public func run() async throws {
        let lease = resources.lease("discoverer")
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if await lease.hold() {
                do { try await discover() } catch {
                    logger.warning("discoverer waits for its servers", metadata: ["error": "\(error)"])
                }
            }
            await SystemClock().sleep(milliseconds: resources.settings.discoverIntervalMs)
        }
        await lease.release()
    }

    func discover() async throws {
        let due = try await resources.ledger.dueBatches(limit: 100)
        guard !due.isEmpty else { return }
        let jobs = due.map { BatchJob(batchID: $0.id).message }
        try await resources.nats { try $0.publish(jobs) }
        for batch in due { try await resources.hot.activate(batch.id) }
        let started = try await resources.ledger.markProcessing(due.map(\.id))
        if !started.isEmpty { logger.info("batches discovered", metadata: ["batches": "\(started.joined(separator: ","))"]) }
    }
}
