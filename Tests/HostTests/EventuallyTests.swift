import Synchronization
import TestSupport
import Testing

/// The waiting helpers every harness relies on: a wait that ended at its first `false` would turn each of the
/// tests that use it into a check of the first moment only. The long deadlines are never reached when the helpers
/// work (each test ends at its condition); they leave room for other suites that block the few cooperative threads.
@Suite("Waiting for a condition")
struct EventuallyTests {
    final class Polls: Sendable {
        let count = Atomic<Int>(0)
        func next() -> Int { count.add(1, ordering: .relaxed).newValue }
    }

    @Test("eventually polls a condition written over several statements until it holds")
    func waitsUntilTrue() async throws {
        let polls = Polls()
        try await eventually(timeout: .seconds(600), interval: .milliseconds(1)) {
            let seen = polls.next()
            return seen >= 5
        }
        #expect(polls.count.load(ordering: .relaxed) == 5)
    }

    @Test("eventually throws at its deadline, naming what it waited for and the probe's last error")
    func throwsAtDeadline() async {
        struct Refused: Error {}
        await #expect(throws: TestSupportError.self) {
            try await eventually("the moon", timeout: .milliseconds(30), interval: .milliseconds(5)) { throw Refused() }
        }
        do {
            try await eventually("the moon", timeout: .milliseconds(30), interval: .milliseconds(5)) { false }
        } catch {
            #expect("\(error)".contains("the moon"))
        }
    }

    @Test("eventuallyValue returns the probe's first value")
    func returnsValue() async throws {
        let polls = Polls()
        let value = try await eventuallyValue(timeout: .seconds(600), interval: .milliseconds(1)) { () -> Int? in
            let seen = polls.next()
            return seen == 3 ? seen * 10 : nil
        }
        #expect(value == 30)
    }

    @Test("holds is false at the condition's first lapse, true when it stays")
    func holdsUntilLapse() async throws {
        let polls = Polls()
        #expect(try await holds(for: .seconds(600), interval: .milliseconds(1)) { polls.next() < 3 } == false)
        #expect(polls.count.load(ordering: .relaxed) == 3)
        #expect(try await holds(for: .milliseconds(20), interval: .milliseconds(5)) { true })
    }
}
