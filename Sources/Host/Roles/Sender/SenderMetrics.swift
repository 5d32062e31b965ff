import Domain
import HostCore
import Metrics
import ProviderModel
import Synchronization

/// What the sender tells Prometheus (through swift-metrics): outcomes, request latency, retries,
/// rate-limit waits, dead letters and plugin faults, each by provider.
enum SenderMetrics {
    /// Every provider's counters exist from the start at 0, so that a dashboard's or alert's query has a series
    /// to read before the first retry or dead letter (Prometheus cannot tell a missing series from no events).
    static func prepare(providers: [String]) {
        for provider in providers {
            for outcome in ["accepted", "permanent", "retryable", "throttled", "plugin_error"] {
                _ = Counter(label: "messages_sent_total", dimensions: [("provider", provider), ("outcome", outcome)])
            }
            _ = Counter(label: "send_retries_total", dimensions: [("provider", provider)])
            _ = Counter(label: "rate_limit_waits_total", dimensions: [("provider", provider)])
            _ = Counter(label: "dead_letters_total", dimensions: [("provider", provider)])
            _ = Counter(label: "plugin_call_errors_total", dimensions: [("provider", provider), ("call", "send")])
            for change in ["opened", "closed", "gave_up"] { _ = Counter(label: "provider_circuit_changes_total", dimensions: [("provider", provider), ("change", change)]) }
        }
    }

    static func outcome(_ provider: String, _ outcome: String, count: Int = 1) {
        guard count > 0 else { return }
        Counter(label: "messages_sent_total", dimensions: [("provider", provider), ("outcome", outcome)]).increment(by: count)
    }

    /// Each provider's request timer, made once: making one is a lookup in the registry under its lock, which a
    /// one-message provider paid on every message (about 1 % of the host's CPU in a Telnyx batch).
    private static let requestTimers = Mutex<[String: Timer]>([:])

    static func requestDuration(_ provider: String, nanoseconds: Int64) {
        let timer = requestTimers.withLock { timers in
            if let made = timers[provider] { return made }
            let made = Timer(label: "send_request_duration_seconds", dimensions: [("provider", provider)])
            timers[provider] = made
            return made
        }
        timer.recordNanoseconds(nanoseconds)
    }

    static func retries(_ provider: String, count: Int) {
        guard count > 0 else { return }
        Counter(label: "send_retries_total", dimensions: [("provider", provider)]).increment(by: count)
    }

    static func rateLimitWait(_ provider: String, messages: Int) {
        guard messages > 0 else { return }
        Counter(label: "rate_limit_waits_total", dimensions: [("provider", provider)]).increment(by: messages)
    }

    static func deadLetters(_ provider: String, count: Int) {
        guard count > 0 else { return }
        Counter(label: "dead_letters_total", dimensions: [("provider", provider)]).increment(by: count)
    }

    /// A send-config's circuit opened (its provider failing), closed again, or gave up holding (`CircuitBreaker`).
    static func circuit(_ provider: String, _ change: CircuitBreaker.Change) {
        Counter(label: "provider_circuit_changes_total", dimensions: [("provider", provider), ("change", change.rawValue)]).increment()
    }

    /// A batch's messages switched the provider they go through (`RouteHistory`): `from` down, `to` standing in,
    /// or back.
    static func routeSwitch(from: String, to: String, _ type: BatchEventType) {
        Counter(label: "batch_route_switches_total", dimensions: [("from", from), ("to", to), ("type", type.rawValue)]).increment()
    }

    static func pluginError(_ provider: String, call: String) {
        Counter(label: "plugin_call_errors_total", dimensions: [("provider", provider), ("call", call)]).increment()
    }

    /// The outcome's name in `messages_sent_total`.
    static func name(_ outcome: SendOutcome) -> String { OutcomePolicy.metricName(outcome, pluginErrorCode: Delivery.pluginError) }
}
