import Foundation

/// Waiting for a condition instead of sleeping for a guessed time: the wait ends as soon as the condition
/// holds, so a fast machine does not wait and a slow one only fails at the deadline, which says what it
/// waited for.

/// Polls `condition` every `interval` until it is true; throws once `timeout` has passed without it.
public func eventually(_ what: @autoclosure () -> String = "the condition", timeout: Duration = .seconds(60),
                       interval: Duration = .milliseconds(100), _ condition: () async throws -> Bool) async throws {
    _ = try await eventuallyValue(what(), timeout: timeout, interval: interval) { try await condition() ? true : nil }
}

/// Polls `probe` every `interval` until it returns a value, and returns that value; throws once `timeout` has
/// passed without one. The error names `what` and the last error the probe threw, if any. (A name of its own: as
/// an overload of `eventually`, a closure returning Bool could be taken for one returning `Bool?`, and end the
/// wait at its first `false`.)
public func eventuallyValue<Value>(_ what: @autoclosure () -> String = "the condition", timeout: Duration = .seconds(60),
                              interval: Duration = .milliseconds(100), _ probe: () async throws -> Value?) async throws -> Value {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    var lastError: (any Error)?
    while true {
        do {
            if let value = try await probe() { return value }
            lastError = nil
        } catch {
            lastError = error
        }
        guard clock.now < deadline else { break }
        try await Task.sleep(for: interval)
    }
    throw TestSupportError("\(what()) did not hold within \(timeout)" + (lastError.map { "; last error: \($0)" } ?? ""))
}

/// `eventually` for code that cannot await (a fixture's initializer, a thread of its own): blocks the calling thread.
public func eventuallyBlocking(_ what: @autoclosure () -> String = "the condition", timeout: Duration = .seconds(60),
                               interval: Duration = .milliseconds(50), _ condition: () throws -> Bool) throws {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    var lastError: (any Error)?
    while true {
        do {
            if try condition() { return }
            lastError = nil
        } catch {
            lastError = error
        }
        guard clock.now < deadline else { break }
        let (seconds, attoseconds) = interval.components
        Thread.sleep(forTimeInterval: Double(seconds) + Double(attoseconds) / 1e18)
    }
    throw TestSupportError("\(what()) did not hold within \(timeout)" + (lastError.map { "; last error: \($0)" } ?? ""))
}

/// Whether `condition` stays true for all of `duration`, checked every `interval`; false at its first lapse.
/// For the checks whose point is that something does NOT happen: no wait can be shorter than the time the
/// thing would take to happen, so `duration` is that time, and the caller says why it is enough.
public func holds(for duration: Duration, interval: Duration = .milliseconds(100), _ condition: () async throws -> Bool) async throws -> Bool {
    let clock = ContinuousClock()
    let end = clock.now + duration
    while clock.now < end {
        guard try await condition() else { return false }
        try await Task.sleep(for: max(.zero, min(interval, end - clock.now)))
    }
    return try await condition()
}
