import Logging
@testable import Sender
import Synchronization
import Testing

/// A batch's history of failovers, as the sender writes it: one event per switch, whichever order the rounds that
/// chose the routes end in.
@Suite("Route history")
struct RouteHistoryTests {
    /// The `batches.routed_via` column and its events: a switch is written only when it changes the route.
    final class Book: RouteBook {
        private let state = Mutex<(via: [String: String?], events: [String])>(([:], []))
        func switchRoute(batchID: String, via: String?, detail: String) async throws -> Bool {
            state.withLock { state in
                guard (state.via[batchID] ?? nil) != via else { return false }
                state.via[batchID] = via
                state.events.append(via == nil ? "failback" : "failover \(via!)")
                return true
            }
        }
        var events: [String] { state.withLock { $0.events } }
    }

    let providers = ["own": "resend", "standby": "ses"]

    @Test("A round that chose the fallback before the provider answered again, and ends after a round that chose the batch's own config since, writes nothing")
    func staleRoundIgnored() async {
        let book = Book()
        let history = RouteHistory(book: book, logger: Logger(label: "test"))
        let outage = await history.decision()
        await history.note(batchID: "b", userID: "u", own: "own", via: "standby", decision: outage, providers: providers)
        // Two rounds choose side by side as the circuit closes: the earlier one the fallback, the later its own.
        let straggler = await history.decision(), back = await history.decision()
        await history.note(batchID: "b", userID: "u", own: "own", via: "own", decision: back, providers: providers)
        await history.note(batchID: "b", userID: "u", own: "own", via: "standby", decision: straggler, providers: providers)
        #expect(book.events == ["failover standby", "failback"])
        // A new outage after that is a switch again.
        await history.note(batchID: "b", userID: "u", own: "own", via: "standby", decision: await history.decision(), providers: providers)
        #expect(book.events == ["failover standby", "failback", "failover standby"])
    }

    @Test("Before a batch's first failover, a round that chose its own config later than one that chose the fallback wins too")
    func staleFirstFailoverIgnored() async {
        let book = Book()
        let history = RouteHistory(book: book, logger: Logger(label: "test"))
        let early = await history.decision(), later = await history.decision()
        await history.note(batchID: "b", userID: "u", own: "own", via: "own", decision: later, providers: providers)
        await history.note(batchID: "b", userID: "u", own: "own", via: "standby", decision: early, providers: providers)
        #expect(book.events.isEmpty)
    }

    @Test("Rounds that end in the order they chose write each switch once, and a batch that never fails over writes nothing")
    func inOrder() async {
        let book = Book()
        let history = RouteHistory(book: book, logger: Logger(label: "test"))
        for via in ["own", "own", "standby", "standby", "own", "own"] {
            await history.note(batchID: "b", userID: "u", own: "own", via: via, decision: await history.decision(), providers: providers)
            await history.note(batchID: "quiet", userID: "u", own: "own", via: "own", decision: await history.decision(), providers: providers)
        }
        #expect(book.events == ["failover standby", "failback"])
    }
}
