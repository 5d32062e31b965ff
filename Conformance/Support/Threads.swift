import Dispatch
import Foundation

/// Runs `body` on `count` threads of their own, started together.
///
/// Not `DispatchQueue.concurrentPerform`: that runs as many iterations at a time
/// as there are cores, so on a two-core machine only pairs of calls ever overlap,
/// and a buffer two other calls share is never caught.
enum Threads {
    static func run(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let start = Barrier(count)
        let finished = DispatchGroup()
        for index in 0..<count {
            finished.enter()
            let thread = Thread {
                // Every thread is alive before any calls: the calls overlap from the first one.
                start.wait()
                body(index)
                finished.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        finished.wait()
    }

    /// `rounds` rounds of `body` on `count` threads, all released together at the start of each
    /// round: threads that drift apart over a long run would otherwise overlap less and less.
    /// `body` must return for every round (a thread that left early would hold the others forever).
    static func run(_ count: Int, rounds: Int, _ body: @escaping @Sendable (_ thread: Int, _ round: Int) -> Void) {
        let barrier = Barrier(count)
        run(count) { thread in
            for round in 0..<rounds {
                barrier.wait()
                body(thread, round)
            }
        }
    }
}

/// A reusable barrier: `wait()` returns once `count` threads have called it, to all of them at
/// once (one futex broadcast). It blocks rather than spins: a spinning barrier on two cores starves
/// the threads still working, and on a loaded machine a check took past its timeout.
final class Barrier: @unchecked Sendable {
    private let barrier = UnsafeMutablePointer<pthread_barrier_t>.allocate(capacity: 1)

    init(_ count: Int) {
        pthread_barrier_init(barrier, nil, UInt32(count))
    }

    deinit {
        pthread_barrier_destroy(barrier)
        barrier.deallocate()
    }

    func wait() {
        _ = pthread_barrier_wait(barrier)
    }
}
