import Discoverer
import Domain
import Messaging
import Testing

struct BatchDiscovererTests {
    @Test("due batches are published (one job id each) and opened (active, their empty state vouched for) before they are marked processing")
    func publishesFirst() async throws {
        let journal = Journal()
        let publisher = FakePublisher(journal)
        let discoverer = BatchDiscoverer(batches: FakeQueuedBatches(journal, due: [("b1", "u1"), ("b2", "u2")]), active: FakeActivation(journal),
                                         publisher: publisher, leadership: AlwaysLeader(), clock: ManualClock(), intervalMs: 500, logger: quietLogger)
        try await discoverer.discover()
        #expect(journal.all == ["publish batch:b1:0", "publish batch:b2:0", "open b1", "open b2", "markProcessing b1,b2"])
        #expect(publisher.messages.map(\.subject) == [Streams.batchSubject, Streams.batchSubject])
    }

    @Test("the loop waits its interval on the clock between looks, and stops when cancelled")
    func waitsItsInterval() async throws {
        let clock = ManualClock()
        let discoverer = BatchDiscoverer(batches: FakeQueuedBatches(Journal(), due: []), active: FakeActivation(Journal()), publisher: FakePublisher(Journal()),
                                         leadership: AlwaysLeader(), clock: clock, intervalMs: 500, logger: quietLogger)
        let task = Task { try await discoverer.run() }
        while clock.sleeps.count < 3 { await Task.yield() }
        task.cancel()
        try await task.value
        #expect(clock.sleeps.prefix(3) == [500, 500, 500])
    }
}
