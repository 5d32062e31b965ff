import HostCore
import Logging

/// The loop every consuming role runs: bind the durable consumer, fetch a round, hand it over; on a server
/// error forget the binding, hand the round back (when asked), wait a second and bind again. It ends when the
/// task is cancelled or the service group shuts down gracefully.
public struct ConsumerLoop: Sendable {
    let bus: MessageBus
    let definition: ConsumerDefinition
    let clock: any WallClock
    let logger: Logger
    /// For the warning: "<what> waits for its servers".
    let what: String

    public init(bus: MessageBus, definition: ConsumerDefinition, clock: any WallClock, logger: Logger, what: String) {
        self.bus = bus
        self.definition = definition
        self.clock = clock
        self.logger = logger
        self.what = what
    }

    /// What becomes of a round's messages when handling it failed.
    public enum OnFailure: Sendable {
        /// Left unsettled: JetStream delivers them again after the ack wait.
        case leave
        /// Handed back now, to be delivered again after this long.
        case handBack(delayMs: Int64)
    }

    /// Runs until shutdown. `size` says how many messages the next round may take (0: none now, the loop
    /// looks again shortly); `handle` gets each non-empty round.
    public func run(size: () -> Int, timeoutMs: Int64, onFailure: OnFailure = .leave,
                    _ handle: ([ReceivedMessage]) async throws -> Void) async {
        var consumer: PullConsumer?
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let wanted = size()
            guard wanted > 0 else { await clock.sleep(milliseconds: 20); continue }
            var round: [ReceivedMessage] = []
            do {
                if consumer == nil {
                    let definition = self.definition
                    consumer = try await bus.run { try $0.pullConsumer(definition) }
                }
                guard let bound = consumer else { continue }
                round = try await bus.blocking { try bound.fetch(batch: wanted, timeoutMs: timeoutMs) }
                if !round.isEmpty { try await handle(round) }
            } catch {
                logger.warning("\(what) waits for its servers", metadata: ["error": "\(error)"])
                consumer = nil
                if case .handBack(let delayMs) = onFailure, !round.isEmpty {
                    try? await bus.blocking { [round] in for message in round { try? message.nak(delayMs: delayMs) } }
                }
                await clock.sleep(milliseconds: 1_000)
            }
        }
    }
}
