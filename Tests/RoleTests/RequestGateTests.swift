@testable import Sender
import Synchronization
import Testing

/// The sender's gate for provider requests: permits, and the hold a single message puts on the bulk.
@Suite("Request gate")
struct RequestGateTests {
    final class Box<Value: Sendable>: Sendable {
        let value: Mutex<Value>
        init(_ value: Value) { self.value = Mutex(value) }
        func with<T>(_ body: (inout Value) -> T) -> T { value.withLock { body(&$0) } }
    }

    /// The gate held as a single message holds it, until `end`.
    struct Hold {
        let finish: AsyncStream<Void>.Continuation
        let holder: Task<Void, Never>

        /// Returns once the hold has begun; `inside` runs first thing in it.
        static func begin(_ gate: RequestGate, inside entered: @escaping @Sendable () -> Void = {}) async -> Hold {
            let inside = AsyncStream<Void>.makeStream(), finish = AsyncStream<Void>.makeStream()
            let holder = Task {
                await gate.held {
                    entered()
                    inside.continuation.yield()
                    for await _ in finish.stream { break }
                }
            }
            for await _ in inside.stream { break }
            return Hold(finish: finish.continuation, holder: holder)
        }

        func end() async {
            finish.yield()
            await holder.value
        }
    }

    @Test("While the gate is held, no request takes a permit and no lane starts a round; both go on when the hold ends")
    func holdStopsTheBulk() async throws {
        let gate = RequestGate(permits: 4, maxHoldMs: 60_000)
        let started = Box<[String]>([])
        let hold = await Hold.begin(gate)
        let request = Task { await gate.withPermit { started.with { $0.append("request") } } }
        let lane = Task { await gate.whenOpen(); started.with { $0.append("lane") } }
        try await Task.sleep(for: .milliseconds(100))
        #expect(started.with { $0 }.isEmpty, "nothing starts while a single message is on its way")
        await hold.end()
        await request.value
        await lane.value
        #expect(Set(started.with { $0 }) == ["request", "lane"])
    }

    @Test("Requests waiting for a permit get it in the order they asked, thousands of them", .timeLimit(.minutes(1)))
    func permitsInOrder() async throws {
        let gate = RequestGate(permits: 1)
        let order = Box<[Int]>([])
        let inside = AsyncStream<Void>.makeStream(), finish = AsyncStream<Void>.makeStream()
        let first = Task {
            await gate.withPermit {
                inside.continuation.yield()
                for await _ in finish.stream { break }
            }
        }
        for await _ in inside.stream { break }
        let count = 2_500
        var waiting: [Task<Void, Never>] = []
        for index in 0..<count {
            waiting.append(Task { await gate.withPermit { order.with { $0.append(index) } } })
            while await gate.waiting < index + 1 { await Task.yield() }
        }
        finish.continuation.yield()
        await first.value
        for task in waiting { await task.value }
        #expect(order.with { $0 } == Array(0..<count))
        #expect(await gate.waiting == 0)
    }

    @Test("A hold that goes on past its limit lets the bulk through: single messages slow it, never stop it")
    func holdHasALimit() async throws {
        let gate = RequestGate(permits: 1, maxHoldMs: 100)
        let clock = ContinuousClock(), heldAt = Box<ContinuousClock.Instant?>(nil)
        // Measured from inside the hold (it began before): however late this test's task runs under load, no permit
        // can come sooner than the limit after it.
        let hold = await Hold.begin(gate) { heldAt.with { $0 = clock.now } }
        await gate.withPermit {}
        await gate.whenOpen()
        let start = try #require(heldAt.with { $0 })
        #expect(clock.now - start >= .milliseconds(90), "waited for the limit")
        await hold.end()
    }

    @Test("A hold that ran out by time lets the request that waited through it go first, before one that asks later, even before its expiry task wakes the waiters",
          .timeLimit(.minutes(1)))
    func expiredHoldKeepsTheOrder() async throws {
        let clock = ParkedClock()
        let gate = RequestGate(permits: 1, maxHoldMs: 100, clock: clock)
        let order = Box<[String]>([])
        let hold = await Hold.begin(gate)
        let first = Task { await gate.withPermit { order.with { $0.append("waited") } } }
        while await gate.waiting < 1 { await Task.yield() }
        clock.advance(by: 150)
        let second = Task { await gate.withPermit { order.with { $0.append("later") } } }
        await first.value
        await second.value
        #expect(order.with { $0 } == ["waited", "later"])
        await hold.end()
        clock.wake()
    }

    @Test("A wall clock stepped back during a hold does not keep the bulk waiting: the hold's expiry lets the waiters in", .timeLimit(.minutes(1)))
    func clockSteppedBack() async throws {
        let clock = ParkedClock()
        let gate = RequestGate(permits: 1, maxHoldMs: 100, clock: clock)
        let hold = await Hold.begin(gate)
        let request = Task { await gate.withPermit {} }
        while await gate.waiting < 1 { await Task.yield() }
        clock.advance(by: -60_000)
        clock.wake()
        var waited = 0
        while await gate.waiting > 0, waited < 200 {
            try await Task.sleep(for: .milliseconds(10))
            waited += 1
        }
        #expect(await gate.waiting == 0, "the request still waits for a hold that expired")
        await hold.end()
        await request.value
    }

    @Test("Holds that follow each other closely count as one run, held for at most its limit: back-to-back single messages cannot stop the bulk")
    func backToBackHolds() async throws {
        let gate = RequestGate(permits: 1, maxHoldMs: 200)
        let done = Box(0), rounds = 40
        let stream = Task {
            // Single messages one after another, each holding the gate 50 ms: 2 s of holding in all.
            for _ in 0..<rounds {
                await gate.held { try? await Task.sleep(for: .milliseconds(50)) }
                done.with { $0 += 1 }
            }
        }
        try await Task.sleep(for: .milliseconds(20))
        await gate.withPermit {}
        let finished = done.with { $0 }
        #expect(finished < 3 * rounds / 4, "the bulk waited for \(finished) of \(rounds) back-to-back holds")
        await stream.value
    }

    @Test("Without a hold, permits bound the requests in flight and pass to waiters in turn")
    func permits() async throws {
        let gate = RequestGate(permits: 2)
        let inFlight = Box(0), most = Box(0)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    await gate.withPermit {
                        let now = inFlight.with { $0 += 1; return $0 }
                        most.with { $0 = max($0, now) }
                        try? await Task.sleep(for: .milliseconds(2))
                        inFlight.with { $0 -= 1 }
                    }
                }
            }
        }
        #expect(most.with { $0 } == 2)
    }
}
