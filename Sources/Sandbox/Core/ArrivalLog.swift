import HostCore
import Synchronization

/// When each accepted message arrived, per provider, so a test can check a sender's pace from the
/// receiving end (`GET /sandbox/arrivals?provider=`). Bounded: past `capacity` messages, arrivals are
/// no longer kept (counted as `dropped`).
final class ArrivalLog: Sendable {
    private struct State {
        var arrivals: [SandboxProvider: [Int64]] = [:]
        var count = 0
        var dropped = 0
    }

    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int = 2_000_000) {
        self.capacity = capacity
    }

    func record(_ provider: SandboxProvider, messages: Int, atMs: Int64 = SystemClock.nowMilliseconds) {
        state.withLock { state in
            let kept = min(messages, capacity - state.count)
            state.dropped += messages - kept
            guard kept > 0 else { return }
            state.arrivals[provider, default: []].append(contentsOf: repeatElement(atMs, count: kept))
            state.count += kept
        }
    }

    func arrivals(_ provider: SandboxProvider) -> (arrivals: [Int64], dropped: Int) {
        state.withLock { ($0.arrivals[provider] ?? [], $0.dropped) }
    }

    func reset() {
        state.withLock { $0 = State() }
    }
}
