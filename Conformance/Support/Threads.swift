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
/// once. It spins with sched_yield rather than sleeping, so the threads leave within microseconds
/// of each other and their next calls truly overlap.
final class Barrier: Sendable {
    private let count: Int
    private let arrived = Atomic<Int>(0)
    private let generation = Atomic<Int>(0)

    init(_ count: Int) {
        self.count = count
    }

    func wait() {
        let current = generation.load(ordering: .acquiring)
        if arrived.add(1, ordering: .acquiringAndReleasing).newValue == count {
            arrived.store(0, ordering: .relaxed)
            generation.add(1, ordering: .releasing)
        } else {
            while generation.load(ordering: .acquiring) == current { sched_yield() }
        }
    }
}
