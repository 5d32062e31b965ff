import HostCore
import Logging
import Persistence
import Services

/// The API's and the dashboard's request limits, over the windows kept in Redis (`RequestWindows`). When
/// Redis cannot be reached a request is refused (503, Retry-After): a limiter that let everything through
/// while its store is down would be no limit exactly when one flood has taken the store down.
package struct SlidingWindowLimiter: Sendable {
    package let windows: RequestWindows
    let logger: Logger

    package init(windows: RequestWindows, logger: Logger) {
        self.windows = windows
        self.logger = logger
    }

    package typealias Decision = RequestWindows.Decision
    package typealias Hold = RequestWindows.Hold
    package typealias Gate = RequestWindows.Gate

    static var unavailable: APIError {
        var error = APIError.unavailable("requests cannot be counted now (the rate limiter's store is unreachable); nothing was done, retry shortly")
        error.headers = [(.retryAfter, "2")]
        return error
    }

    /// How many requests `window` admitted, without counting one more.
    package func count(_ window: RequestWindows.Window, windowMilliseconds: Int) async throws(APIError) -> Int {
        let now = Int(SystemClock.nowMilliseconds)
        return try await refusing { try await windows.count(window, windowMilliseconds: windowMilliseconds, nowMs: now) }
    }

    /// Admits one request in `window`.
    package func admit(_ window: RequestWindows.Window, limit: Int, windowMilliseconds: Int) async throws(APIError) -> Decision {
        // Wall-clock time: the window must mean the same on every API process.
        let now = Int(SystemClock.nowMilliseconds)
        return try await refusing { try await windows.admit(window, limit: limit, windowMilliseconds: windowMilliseconds, nowMs: now) }
    }

    /// Takes a gate (`RequestWindows.signInGate`) for at most `milliseconds` when no one holds it.
    package func hold(_ key: String, milliseconds: Int) async throws(APIError) -> Gate {
        try await refusing { try await windows.hold(key, milliseconds: milliseconds) }
    }

    package func release(_ hold: Hold) async throws(APIError) {
        try await refusing { try await windows.release(hold) }
    }

    /// A store that cannot be reached, or answers in a shape the scripts never give, is the 503.
    private func refusing<T>(_ body: () async throws -> T) async throws(APIError) -> T {
        do { return try await body() } catch {
            logger.warning("rate limiter unavailable; request refused", metadata: ["error": "\(error)"])
            throw Self.unavailable
        }
    }
}
