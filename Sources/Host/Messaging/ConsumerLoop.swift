import HostCore
import Logging

/// The loop every consuming role runs: bind the durable consumer, fetch a round, hand it over. When binding
/// or fetching fails, the binding is forgotten and made again after a second; when handling a round fails,
/// the round is handed back (when asked) through the binding it came on, which is kept. It ends when the
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
            let round: [ReceivedMessage]
            do {
                let bound: PullConsumer
                if let consumer { bound = consumer } else {
                    let definition = self.definition
                    bound = try await bus.run { try $0.pullConsumer(definition) }
                    consumer = bound
                }
                round = try await bus.blocking { try bound.fetch(batch: wanted, timeoutMs: timeoutMs) }
            } catch {
                // The binding failed or its fetch did: bound again after a pause.
                logger.warning("\(what) waits for its servers", metadata: ["error": "\(error)"])
                consumer = nil
                await clock.sleep(milliseconds: 1_000)
                continue
            }
            guard !round.isEmpty else { continue }
            do { try await handle(round) } catch {
                // The round could not be handled (a store away, say); the binding is sound and is kept, so the
                // round's messages are settled through the subscription they came on.
                logger.warning("\(what) waits for its servers", metadata: ["error": "\(error)"])
                if case .handBack(let delayMs) = onFailure {
                    try? await bus.blocking { [round] in for message in round { try? message.nak(delayMs: delayMs) } }
                }
                await clock.sleep(milliseconds: 1_000)
            }
        }
    }
}
