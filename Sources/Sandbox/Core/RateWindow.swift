import Synchronization

/// A per-key limit over one-second windows, reporting what the
/// `ratelimit-*` headers need.
final class RateWindow: Sendable {
    struct Decision: Sendable {
        var allowed: Bool
        var limit: Int
        var remaining: Int
        /// Seconds until the window resets (at least 1, as the headers are whole seconds).
        var resetSeconds: Int
    }

    private let limit: Int
    private let windows = Mutex<[String: (second: Int64, used: Int)]>([:])

    init(limitPerSecond: Int) {
        limit = limitPerSecond
    }

    /// Takes `cost` units (requests, or recipients for SES) from `key`'s current window.
    func take(_ key: String, cost: Int = 1, nowMilliseconds: Int64) -> Decision {
        let second = nowMilliseconds / 1000
        return windows.withLock { windows in
            var window = windows[key] ?? (second, 0)
            if window.second != second { window = (second, 0) }
            let allowed = window.used + cost <= limit
            if allowed { window.used += cost }
            windows[key] = window
            return Decision(allowed: allowed, limit: limit, remaining: max(0, limit - window.used), resetSeconds: 1)
        }
    }

    func reset() {
        windows.withLock { $0 = [:] }
    }
}
