import Logging
@testable import Sender
import Synchronization
import TestSupport
import Testing

/// A batch's history of failovers, as the sender writes it: one event per switch, whichever order the rounds that
/// chose the routes end in.
@Suite("Route history")
struct RouteHistoryTests {
    /// The `batches.routed_via` column and its events: a switch is written only when it changes the route.
    final class Book: RouteBook {
        private let state = Mutex<(via: [String: String?], events: [String], writes: Int)>(([:], [], 0))
        func switchRoute(batchID: String, via: String?, detail: String) async throws -> Bool {
            state.withLock { state in
                state.writes += 1
                guard (state.via[batchID] ?? nil) != via else { return false }
                state.via[batchID] = via
                state.events.append(via == nil ? "failback" : "failover \(via!)")
                return true
            }
        }
        var events: [String] { state.withLock { $0.events } }
        /// Statements sent, whether or not they changed the row.
        var writes: Int { state.withLock { $0.writes } }
    }

    let providers = ["own": "resend", "standby": "ses"]

    @Test("A round that chose the fallback before the provider answered again, and ends after a round that chose the batch's own config since, writes nothing")
    func staleRoundIgnored() async {
        let book = Book()
        let history = RouteHistory(book: book, logger: Logger(label: "test"))
        let outage = history.decision()
        await history.note(batchID: "b", userID: "u", own: "own", via: "standby", decision: outage, providers: providers)
        // Two rounds choose side by side as the circuit closes: the earlier one the fallback, the later its own.
        let straggler = history.decision(), back = history.decision()
        await history.note(batchID: "b", userID: "u", own: "own", via: "own", decision: back, providers: providers)
        await history.note(batchID: "b", userID: "u", own: "own", via: "standby", decision: straggler, providers: providers)
        #expect(book.events == ["failover standby", "failback"])
        // A new outage after that is a switch again.
        await history.note(batchID: "b", userID: "u", own: "own", via: "standby", decision: history.decision(), providers: providers)
        #expect(book.events == ["failover standby", "failback", "failover standby"])
    }

    /// A book whose first write waits until the test lets it go, as a statement waits on a busy database.
    final class SlowBook: RouteBook {
        let book = Book()
        private let calls = Mutex(0)
        let parked = AsyncStream<Void>.makeStream(), released = AsyncStream<Void>.makeStream()
        func switchRoute(batchID: String, via: String?, detail: String) async throws -> Bool {
            if calls.withLock({ $0 += 1; return $0 == 1 }) {
                parked.continuation.yield()
                for await _ in released.stream { break }
            }
            return try await book.switchRoute(batchID: batchID, via: via, detail: detail)
        }
    }

    @Test("A failback noted while the failover before it is still being written is written after it: the row ends on the batch's own config")
    func switchNotedDuringAWrite() async throws {
        let book = SlowBook()
        let history = RouteHistory(book: book, logger: Logger(label: "test"))
        let outage = history.decision()
        let failover = Task { await history.note(batchID: "b", userID: "u", own: "own", via: "standby", decision: outage, providers: providers) }
        for await _ in book.parked.stream { break }
        let back = history.decision()
        let failback = Task { await history.note(batchID: "b", userID: "u", own: "own", via: "own", decision: back, providers: providers) }
        // The failback noted while the failover's write waits (had it compared itself with the route written so far, it
        // would have found no change, written nothing and noted nothing).
        try await eventually("the failback noted during the failover's write", timeout: .seconds(10), interval: .milliseconds(1)) {
            await history.noted("b") == ""
        }
        book.released.continuation.yield()
        await failover.value
        await failback.value
        #expect(book.book.events == ["failover standby", "failback"])
    }

    /// A book that fails its first write, as a database that is down does.
    final class FailingOnceBook: RouteBook {
        let book = Book()
        private let calls = Mutex(0)
        struct Down: Error {}
        func switchRoute(batchID: String, via: String?, detail: String) async throws -> Bool {
            if calls.withLock({ $0 += 1; return $0 == 1 }) { throw Down() }
            return try await book.switchRoute(batchID: batchID, via: via, detail: detail)
        }
    }

    @Test("A switch whose write failed is written by the batch's next round, though that round changes nothing")
    func failedWriteRetried() async {
        let book = FailingOnceBook()
        let history = RouteHistory(book: book, logger: Logger(label: "test"))
        await history.note(batchID: "b", userID: "u", own: "own", via: "standby", decision: history.decision(), providers: providers)
        #expect(book.book.events.isEmpty)
        await history.note(batchID: "b", userID: "u", own: "own", via: "standby", decision: history.decision(), providers: providers)
        #expect(book.book.events == ["failover standby"])
    }

    @Test("Rounds that end in the order they chose write each switch once, and a batch that never fails over writes nothing")
    func inOrder() async {
        let book = Book()
        let history = RouteHistory(book: book, logger: Logger(label: "test"))
        for via in ["own", "own", "standby", "standby", "own", "own"] {
            await history.note(batchID: "b", userID: "u", own: "own", via: via, decision: history.decision(), providers: providers)
            await history.note(batchID: "quiet", userID: "u", own: "own", via: "own", decision: history.decision(), providers: providers)
        }
        #expect(book.events == ["failover standby", "failback"])
        #expect(book.writes == 2, "a round that changes nothing sends no statement")
    }
}
