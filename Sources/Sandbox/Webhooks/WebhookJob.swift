import ProviderModel

/// One webhook event on its way to a receiver, with what it needs for every attempt.
struct WebhookJob: Sendable {
    let provider: SandboxProvider
    let url: String
    /// The provider's event id: the same for a retry and for a duplicate.
    let eventId: String
    /// Headers and body for attempt `attempt` (1-based) made at `nowMilliseconds`:
    /// providers re-sign each attempt with its own timestamp.
    let build: @Sendable (_ attempt: Int, _ nowMilliseconds: Int64) -> (headers: [KeyValue], body: [UInt8])
    let schedule: RetrySchedule
    /// SNS notifications wait for the subscription to be confirmed; confirmations do not.
    let needsConfirmedSubscription: Bool
    var attempt = 1
}

/// A provider's documented retry schedule, compressed by the configured scale.
struct RetrySchedule: Sendable {
    /// Delay before each retry; its count is the number of retries.
    let retryDelaysMilliseconds: [Int64]
    /// How long the provider waits for the receiver's answer.
    let timeoutMilliseconds: Int

    /// Svix (Resend): immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; 15 s to answer.
    static func resend(scale: Double) -> RetrySchedule {
        RetrySchedule(retryDelaysMilliseconds: scaled([5, 300, 1800, 7200, 18_000, 36_000, 36_000], scale), timeoutMilliseconds: 15_000)
    }

    /// SNS's default HTTP policy: 3 retries 20 s apart; 15 s to answer.
    static func sns(scale: Double) -> RetrySchedule {
        RetrySchedule(retryDelaysMilliseconds: scaled([20, 20, 20], scale), timeoutMilliseconds: 15_000)
    }

    /// Telnyx: up to 3 attempts per URL, 2 s to answer. The gaps are not documented; 5 s and 30 s are assumed.
    static func telnyx(scale: Double) -> RetrySchedule {
        RetrySchedule(retryDelaysMilliseconds: scaled([5, 30], scale), timeoutMilliseconds: 2_000)
    }

    private static func scaled(_ seconds: [Double], _ scale: Double) -> [Int64] {
        seconds.map { Int64(($0 * 1000 * scale).rounded()) }
    }
}
