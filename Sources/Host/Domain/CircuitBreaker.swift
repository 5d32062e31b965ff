/// Whether a send-config's provider is answering, judged from its requests' fates: a provider in an outage
/// (every request a 5xx or a transport failure) would otherwise burn every recipient's attempts in seconds
/// and fail them, though none of it was their fault. Closed, it lets everything through and counts the last
/// `windowMs`; when at least `minimumRequests` ended there and `failureRatio` of them failed, it opens: chunks
/// wait without spending attempts until `openMs` has passed, then one chunk goes as a probe. A probe that
/// the provider answers closes it; one that fails opens it again. A value type with the time passed in, so
/// its rules are tested with a test clock.
public struct CircuitBreaker: Sendable {
    public static let windowMs: Int64 = 10_000
    public static let minimumRequests = 10
    public static let failureRatio = 0.8
    public static let openMs: Int64 = 5_000
    /// How long a probe may be out before another chunk may probe (a probe lost with its process).
    public static let probeTimeoutMs: Int64 = 60_000

    public enum Admission: Sendable, Equatable {
        /// Closed: send.
        case send
        /// Half-open: this chunk is the probe; its fate decides.
        case probe
        /// Open: hand the chunk back for this long, spending no attempt.
        case wait(ms: Int64)
    }

    /// What a state change was, for the log and the metrics.
    public enum Change: Sendable, Equatable { case opened, closed }

    private enum State: Sendable {
        /// Requests and failures per second of the window, oldest first: at most `windowMs / 1000` entries.
        case closed(seconds: [(second: Int64, requests: Int, failed: Int)])
        case open(untilMs: Int64)
        case probing(sinceMs: Int64)
    }

    private var states: [String: State] = [:]

    public init() {}

    public mutating func admit(_ key: String, nowMs: Int64) -> Admission {
        switch states[key] ?? .closed(seconds: []) {
        case .closed:
            return .send
        case .open(let until) where nowMs < until:
            return .wait(ms: until - nowMs)
        case .probing(let since) where nowMs - since < Self.probeTimeoutMs:
            return .wait(ms: 1_000)
        case .open, .probing:
            states[key] = .probing(sinceMs: nowMs)
            return .probe
        }
    }

    /// Records how `requests` requests to the provider ended (`failed` of them a 5xx or a transport failure).
    /// `probe`: they were the probe's.
    public mutating func record(_ key: String, requests: Int, failed: Int, probe: Bool, nowMs: Int64) -> Change? {
        guard requests > 0 else { return nil }
        switch states[key] ?? .closed(seconds: []) {
        case .probing where probe:
            if failed < requests {
                states[key] = nil
                return .closed
            }
            states[key] = .open(untilMs: nowMs + Self.openMs)
            return nil
        case .closed(var seconds):
            let second = nowMs / 1_000
            seconds.removeAll { second - $0.second >= Self.windowMs / 1_000 }
            if let last = seconds.indices.last, seconds[last].second == second {
                seconds[last].requests += requests
                seconds[last].failed += failed
            } else {
                seconds.append((second, requests, failed))
            }
            let total = seconds.reduce(0) { $0 + $1.requests }, failures = seconds.reduce(0) { $0 + $1.failed }
            if total >= Self.minimumRequests, Double(failures) >= Self.failureRatio * Double(total) {
                states[key] = .open(untilMs: nowMs + Self.openMs)
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
