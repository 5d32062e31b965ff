import Domain
import Testing

/// The status words the SQL of cancels, failures and completion is generated from.
@Suite("Status vocabulary")
struct DeliveryStatusTests {
    @Test("every recipient status is either waiting or terminal, never both; a send outcome may overwrite exactly the waiting ones and cancelled")
    func waitingAndTerminal() {
        let waiting = Set(RecipientStatus.waiting)
        #expect(waiting.isDisjoint(with: RecipientStatus.terminal))
        #expect(waiting.union(RecipientStatus.terminal) == Set(RecipientStatus.allCases))
        #expect(waiting.union([.cancelled]) == Set(RecipientStatus.sendable))
    }

    @Test("a batch can be cancelled until it ends, and keeps its send-config while it is on its way")
    func batchSets() {
        #expect(Set(BatchStatus.cancellable) == Set(BatchStatus.allCases).subtracting([.completed, .cancelled, .failed]))
        #expect(Set(BatchStatus.sending) == [.queued, .processing])
    }

    @Test("SQL lists are the quoted words, in the order given")
    func sqlLists() {
        #expect(RecipientStatus.sqlList([.pending, .queued, .deferred]) == "('pending', 'queued', 'deferred')")
        #expect(BatchStatus.sqlList(BatchStatus.sending) == "('queued', 'processing')")
        #expect(RecipientStatus.cancelled.sql == "'cancelled'")
    }
}
