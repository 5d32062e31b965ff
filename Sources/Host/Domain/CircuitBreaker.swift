/// Whether a send-config's provider is answering, judged from its requests' fates: a provider in an outage
/// (every request a 5xx or a transport failure) would otherwise burn every recipient's attempts in seconds
/// and fail them, though none of it was their fault. Closed, it lets everything through and counts the last
/// `windowMs`; when at least `minimumRequests` ended there and `failureRatio` of them failed, it opens: chunks
/// wait without spending attempts until `openMs` has passed, then one request goes as a probe. A probe that
/// the provider answers closes it; one that fails (or never gets sent) opens it again. After `maxOpenMs` of
/// outage it gives up holding: chunks go and spend their attempts as before (a dead endpoint fails its
/// recipients, not holds them for days) until a request is answered. A value type with the time passed in,
/// so its rules are tested with a test clock.
public struct CircuitBreaker: Sendable {
    public static let windowMs: Int64 = 10_000
    public static let minimumRequests = 10
    public static let failureRatio = 0.8
    public static let openMs: Int64 = 5_000
    public static let maxOpenMs: Int64 = 600_000
    /// How long a probe may be out before another chunk may probe (a probe lost with its process).
    public static let probeTimeoutMs: Int64 = 60_000

    public enum Admission: Sendable, Equatable {
        /// Send.
        case send
        /// Half-open: this chunk sends one request as the probe; its fate decides.
        case probe
        /// Open: hand the chunk back for this long, spending no attempt.
        case wait(ms: Int64)
    }

    /// What a state change was, for the log and the metrics.
    public enum Change: String, Sendable, Equatable { case opened, closed, gaveUp = "gave_up" }

    private enum State: Sendable {
        /// Requests and failures per second of the window, oldest first: at most `windowMs / 1000` entries.
        case closed(seconds: [(second: Int64, requests: Int, failed: Int)])
        case open(untilMs: Int64, openedAtMs: Int64)
        case probing(sinceMs: Int64, openedAtMs: Int64)
        /// Open for longer than `maxOpenMs`: everything goes, until an answer closes it.
        case givenUp
    }

    private var states: [String: State] = [:]

    public init() {}

    /// What a chunk of `key` may do now, and the change that decision made, if any.
    public mutating func admit(_ key: String, nowMs: Int64) -> (Admission, Change?) {
        switch states[key] ?? .closed(seconds: []) {
        case .closed, .givenUp:
            return (.send, nil)
        case .open(let until, _) where nowMs < until:
            // Never longer than one period, whatever the wall clock did.
            return (.wait(ms: min(until - nowMs, Self.openMs)), nil)
        case .probing(let since, _) where nowMs - since < Self.probeTimeoutMs && nowMs >= since:
            return (.wait(ms: Self.openMs), nil)
        case .open(_, let openedAt), .probing(_, let openedAt):
            if nowMs - openedAt >= Self.maxOpenMs {
                states[key] = .givenUp
                return (.send, .gaveUp)
            }
            states[key] = .probing(sinceMs: nowMs, openedAtMs: openedAt)
            return (.probe, nil)
        }
    }

    /// Whether `key`'s provider is answering as far as this breaker knows (closed): what a fallback must be to
    /// take a down config's messages. Asking changes nothing.
    public func isClosed(_ key: String) -> Bool {
        guard let state = states[key] else { return true }
        if case .closed = state { return true }
        return false
    }

    /// Whether a chunk admitted now could send to `key`'s provider: closed, or open with its wait over and no probe
    /// out (the chunk would probe). A fallback that went down is taken up again this way, through its own probe.
    /// Asking changes nothing.
    public func mayTry(_ key: String, nowMs: Int64) -> Bool {
        switch states[key] ?? .closed(seconds: []) {
        case .closed: true
        case .givenUp: false
        case .open(let until, _): nowMs >= until
        case .probing(let since, _): nowMs - since >= Self.probeTimeoutMs || nowMs < since
        }
    }

    /// Records how `requests` requests to the provider ended (`failed` of them a 5xx or a transport failure).
    /// `probe`: they were the probe's; a probe of no request (its chunk could not be sent) failed.
    public mutating func record(_ key: String, requests: Int, failed: Int, probe: Bool, nowMs: Int64) -> Change? {
        switch states[key] ?? .closed(seconds: []) {
        case .probing(_, let openedAt) where probe:
            if requests > 0, failed < requests {
                states[key] = nil
                return .closed
            }
            states[key] = .open(untilMs: nowMs + Self.openMs, openedAtMs: openedAt)
            return nil
        case .givenUp:
            guard requests > 0, failed < requests else { return nil }
            states[key] = nil
            return .closed
        case .closed(var seconds):
            guard requests > 0 else { return nil }
            let second = nowMs / 1_000
            seconds.removeAll { second - $0.second >= Self.windowMs / 1_000 || $0.second > second }
            if let last = seconds.indices.last, seconds[last].second == second {
                seconds[last].requests += requests
                seconds[last].failed += failed
            } else {
                seconds.append((second, requests, failed))
            }
            let total = seconds.reduce(0) { $0 + $1.requests }, failures = seconds.reduce(0) { $0 + $1.failed }
            if total >= Self.minimumRequests, Double(failures) >= Self.failureRatio * Double(total) {
                states[key] = .open(untilMs: nowMs + Self.openMs, openedAtMs: nowMs)
                return .opened
            }
            // A provider answering everything keeps no state.
            states[key] = failures == 0 ? nil : .closed(seconds: seconds)
            return nil
        case .open, .probing:
            // Requests sent before the circuit opened, ending now: the probe decides.
            return nil
        }
    }
}
