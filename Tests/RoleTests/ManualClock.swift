import HostCore
import Synchronization

/// A clock a test holds: `nowMilliseconds` moves only when the test (or a sleep) moves it, and a sleep
/// returns at once after moving it, so a role's loop runs as fast as the test drives it.
final class ManualClock: WallClock {
    private let now: Mutex<Int64>
    private let slept = Mutex<[Int64]>([])

    init(at start: Int64 = 1_700_000_000_000) { now = Mutex(start) }

    var nowMilliseconds: Int64 { now.withLock { $0 } }

    func advance(by milliseconds: Int64) { now.withLock { $0 += milliseconds } }

    func sleep(milliseconds: Int64) async {
        slept.withLock { $0.append(milliseconds) }
        advance(by: milliseconds)
        await Task.yield()
    }

    /// Every wait asked for, in order.
    var sleeps: [Int64] { slept.withLock { $0 } }
}
