import Foundation

/// The time the platform's rules read, and the waits between their rounds: what a role takes so that a test
/// holds the time it decides by (`SystemClock` in a process, a manual clock in a unit test).
public protocol WallClock: Sendable {
    /// Now, as Unix milliseconds: what signatures, timestamps and the pipeline's ages use.
    var nowMilliseconds: Int64 { get }
    /// Waits `milliseconds`, returning early (without throwing) when the task is cancelled.
    func sleep(milliseconds: Int64) async
}

/// The real time.
public struct SystemClock: WallClock {
    public init() {}

    public var nowMilliseconds: Int64 { Self.nowMilliseconds }

    /// The real time, for code that is no rule's (a log line, a plugin's signature check).
    public static var nowMilliseconds: Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }

    public func sleep(milliseconds: Int64) async {
        try? await Task.sleep(for: .milliseconds(milliseconds))
    }
}

extension WallClock where Self == SystemClock {
    public static var system: SystemClock { SystemClock() }
}
