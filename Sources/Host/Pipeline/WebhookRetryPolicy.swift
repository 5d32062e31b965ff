/// How often a stored webhook with an event PostgreSQL refuses is tried before it is dead-lettered,
/// and how long it waits between tries. Counted by JetStream's deliveries, so every delivery counts,
/// the waits for a message not known yet included: a webhook that waited long for its message and
/// then fails is dead-lettered at its first failure. A round that fails because the servers do
/// (PostgreSQL away, a deadlock) sets no event aside, so it dead-letters nothing however long it lasts.
public struct WebhookRetryPolicy: Sendable, Equatable {
    public var attempts: UInt64 = 5
    public var firstDelayMs: Int64 = 1_000
    public var maxDelayMs: Int64 = 30_000

    public init() {}

    public enum Decision: Equatable, Sendable {
        case retry(delayMs: Int64)
        case deadLetter
    }

    /// What to do with a webhook that failed at its `deliveries`-th delivery (1 the first time).
    public func decision(deliveries: UInt64) -> Decision {
        guard deliveries < attempts else { return .deadLetter }
        // 1 s, 2 s, 4 s… : the shift is bounded, so it cannot overflow.
        let doubled = firstDelayMs << Int64(min(max(deliveries, 1) - 1, 20))
        return .retry(delayMs: min(doubled, maxDelayMs))
    }
}
