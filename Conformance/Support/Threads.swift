import Dispatch
import Foundation
import Synchronization

/// Runs `body` on `count` threads of their own, started together.
///
/// Not `DispatchQueue.concurrentPerform`: that runs as many iterations at a time
/// as there are cores, so on a two-core machine only pairs of calls ever overlap,
/// and a buffer two other calls share is never caught.
enum Threads {
    static func run(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let arrived = Atomic<Int>(0)
        let finished = DispatchGroup()
        for index in 0..<count {
            finished.enter()
            let thread = Thread {
                arrived.add(1, ordering: .relaxed)
                // Every thread is alive before any calls: the calls overlap from the first one.
                while arrived.load(ordering: .relaxed) < count { sched_yield() }
                body(index)
                finished.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        finished.wait()
    }
}
