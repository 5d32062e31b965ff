import HostCore
import Logging
import Metrics
import ServiceLifecycle

/// Reads every stream's consumers from JetStream every few seconds into gauges, so that Prometheus
/// (and an autoscaler reading it) sees the work waiting: `nats_queue_depth`, the jobs not yet done
/// (not yet delivered, plus delivered and not acked: a chunk handed back to wait for its rate-limit
/// appointment is still work to do), `nats_pending_acks` (the second part alone), per stream and
/// consumer, and `nats_stream_messages`.
/// A consumer that went away (an idle tenant's) reads 0, then is dropped from the set.
public struct QueueDepthMonitor: Service {
    /// The gauge an autoscaler reads (deploy/k8s's ScaledObjects name it).
    public static let depthMetric = "nats_queue_depth"

    let bus: MessageBus
    let clock: any WallClock
    let logger: Logger
    let intervalMs: Int64

    public init(bus: MessageBus, clock: any WallClock = .system, logger: Logger, intervalMs: Int64 = 2_000) {
        self.bus = bus
        self.clock = clock
        self.logger = logger
        self.intervalMs = intervalMs
    }

    public func run() async throws {
        var known: Set<[String]> = []
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let readings = try await bus.run { jetStream in
                    try Streams.definitions.map { definition in
                        (definition.name, try jetStream.messageCount(stream: definition.name), try jetStream.consumers(stream: definition.name))
                    }
                }
                var seen: Set<[String]> = []
                for (stream, messages, consumers) in readings {
                    Gauge(label: "nats_stream_messages", dimensions: [("stream", stream)]).record(Int64(clamping: messages))
                    for consumer in consumers {
                        seen.insert([stream, consumer.name])
                        record(stream: stream, consumer: consumer.name, waiting: Int64(clamping: consumer.pending) &+ consumer.unacked,
                               unacked: consumer.unacked)
                    }
                }
                for gone in known.subtracting(seen) { record(stream: gone[0], consumer: gone[1], waiting: 0, unacked: 0) }
                known = seen
            } catch {
                logger.debug("queue depth not readable now", metadata: ["error": "\(error)"])
            }
            await clock.sleep(milliseconds: intervalMs)
        }
    }

    private func record(stream: String, consumer: String, waiting: Int64, unacked: Int64) {
        let labels = [("stream", stream), ("consumer", consumer)]
        Gauge(label: Self.depthMetric, dimensions: labels).record(waiting)
        Gauge(label: "nats_pending_acks", dimensions: labels).record(unacked)
    }
}
