import HostCore
import Synchronization

/// A clock whose time moves only when the test moves it (either way, as a wall clock may), and whose sleeps wait
/// until the test wakes them: a moment a timer has not yet ended, held open. Sleeps that begin after `wake` return
/// at once.
final class ParkedClock: WallClock {
    private let state = Mutex<(now: Int64, awake: Bool, parked: [CheckedContinuation<Void, Never>])>((0, false, []))

    var nowMilliseconds: Int64 { state.withLock { $0.now } }

    func advance(by milliseconds: Int64) { state.withLock { $0.now += milliseconds } }

    func sleep(milliseconds: Int64) async {
        await withCheckedContinuation { sleeper in
            let awake = state.withLock { state in
                if !state.awake { state.parked.append(sleeper) }
                return state.awake
            }
            if awake { sleeper.resume() }
        }
    }

    /// Ends every sleep, those to come included.
    func wake() {
        let parked = state.withLock { state in
            state.awake = true
            defer { state.parked = [] }
            return state.parked
        }
        for sleeper in parked { sleeper.resume() }
    }
}
