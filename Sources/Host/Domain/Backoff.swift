/// The wait before a recipient's next attempt after transient failures: `base` × 2^(attempts−1), capped at
/// `max`, then spread over 0.5–1.5× that step so that recipients failed together do not come back together
/// (so the longest wait is 1.5 × `max`).
public struct Backoff: Sendable, Equatable {
    public var baseMs: Int64
    public var maxMs: Int64

    public init(baseMs: Int64, maxMs: Int64) {
        self.baseMs = baseMs
        self.maxMs = maxMs
    }

    /// The step after `attempts` transient failures, before the spread.
    public func stepMs(attempts: Int) -> Int64 {
        // No `attempts - 1` on the way: at Int.min that subtraction is a trap.
        let exponent = attempts <= 1 ? 0 : min(attempts - 1, 20)
        return min(baseMs << Int64(exponent), maxMs)
    }

    /// The wait, with `spread` in 0...1 placing it between half the step and one and a half steps.
    public func delayMs(attempts: Int, spread: Double) -> Int64 {
        let step = stepMs(attempts: attempts)
        let unit = spread.isFinite ? Swift.min(Swift.max(spread, 0), 1) : 0.5
        return Swift.max(1, step / 2 + Int64((Double(Swift.max(step, 1)) * unit).rounded(.down)))
    }
}
