import HostCore
/// How often a stored webhook is refused (an event PostgreSQL refuses, its config or plugin not there)
/// before it is dead-lettered, and how long it waits between tries. Counted by refusals, not by
/// JetStream's deliveries: a webhook that waited long for its message, or went round while the servers
/// were away, still gets every attempt. A round that fails because the servers do (PostgreSQL away, a
/// deadlock) refuses no webhook, so it dead-letters nothing however long it lasts.
public struct WebhookRetryPolicy: Sendable, Equatable {
    public var attempts: UInt64 = 5
    public var firstDelayMs: Int64 = 1_000
    public var maxDelayMs: Int64 = 30_000
    /// How long a stored webhook's refusals are remembered: far longer than its attempts take.
    public var memorySeconds = 86_400

    public init() {}

    public enum Decision: Equatable, Sendable {
        case retry(delayMs: Int64)
        case deadLetter
    }

    /// What to do with a webhook refused for the `refusals`-th time (1 the first time).
    public func decision(refusals: UInt64) -> Decision {
        guard refusals < attempts else { return .deadLetter }
        // 1 s, 2 s, 4 s… : the shift is bounded, so it cannot overflow.
        let doubled = firstDelayMs << Int64(min(max(refusals, 1) - 1, 20))
        return .retry(delayMs: min(doubled, maxDelayMs))
    }
}
