import HostCore
import ProviderModel

/// What a provider's answer makes of one claimed recipient: accepted → sent; permanent → failed with the
/// provider's code and message; throttled (the plugin says the provider's rate or quota refused it, ABI 1.1)
/// → wait, no attempt used; retryable → one attempt used and a backoff, then failed with the last reason
/// once the attempts run out (and dead-lettered). A 1.0 plugin has no throttled kind: its 429 is retryable.
public struct OutcomePolicy: Sendable {
    public var maxAttempts: Int
    /// The wait after throttling when the provider named no time.
    public var throttleDelayMs: Int64
    public var backoff: Backoff
    /// 0...1, where a retry's wait falls within its backoff step; random in a process, fixed in a test.
    public var spread: @Sendable () -> Double

    public init(maxAttempts: Int, throttleDelayMs: Int64, backoff: Backoff, spread: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }) {
        self.maxAttempts = maxAttempts
        self.throttleDelayMs = throttleDelayMs
        self.backoff = backoff
        self.spread = spread
    }

    public enum Decision: Sendable, Equatable {
        /// The provider took it; `attempts` counts this one.
        case sent(providerMessageID: String, attempts: Int)
        /// It will never succeed as it is.
        case failed(reason: String, attempts: Int)
        /// Transient again, with no attempt left: failed, and `lastReason` goes to the dead letters.
        case exhausted(reason: String, lastReason: String, attempts: Int)
        /// The provider's rate or quota: back after `retryInMs`, the attempt not spent.
        case throttled(retryInMs: Int64)
        /// Transient: back after `retryInMs` with `attempts` used.
        case retry(reason: String, attempts: Int, retryInMs: Int64)
    }

    /// How the reason of a recipient that failed for want of attempts begins (transient failures each time): what
    /// tells a retryable failure from a refusal when a finished batch's failed recipients are sent again.
    public static let exhaustedPrefix = "gave up after "

    /// The decision for `outcome` of a recipient that had used `attemptsBefore` attempts.
    public func decide(_ outcome: SendOutcome, attemptsBefore: Int) -> Decision {
        let used = attemptsBefore + 1
        let reason = outcome.code.isEmpty ? outcome.message : "\(outcome.code): \(outcome.message)"
        switch outcome.kind {
        case .accepted:
            return .sent(providerMessageID: outcome.providerMessageId, attempts: used)
        case .permanent:
            return .failed(reason: reason, attempts: used)
        case .throttled:
            return .throttled(retryInMs: outcome.retryAfterMs ?? throttleDelayMs)
        case .retryable:
            guard used < maxAttempts else {
                return .exhausted(reason: "\(Self.exhaustedPrefix)\(used) attempts; last: \(reason)", lastReason: reason, attempts: used)
            }
            // Never sooner than the provider asked.
            let wait = max(backoff.delayMs(attempts: used, spread: spread()), outcome.retryAfterMs ?? 0)
            return .retry(reason: reason, attempts: used, retryInMs: wait)
        }
    }

    /// The name an outcome is counted under in `messages_sent_total`.
    public static func metricName(_ outcome: SendOutcome, pluginErrorCode: String) -> String {
        switch outcome.kind {
        case .accepted: "accepted"
        case .permanent: "permanent"
        case .throttled: "throttled"
        case .retryable where outcome.code == pluginErrorCode: "plugin_error"
        case .retryable: "retryable"
        }
    }
}

extension OutcomePolicy {
    public init(settings: PipelineSettings) {
        self.init(maxAttempts: settings.maxAttempts, throttleDelayMs: settings.throttleDelayMs,
                  backoff: Backoff(baseMs: settings.backoffBaseMs, maxMs: settings.backoffMaxMs))
    }
}
