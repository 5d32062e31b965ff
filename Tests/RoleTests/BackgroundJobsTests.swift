import Background
import Domain
import HostCore
import Messaging
import Persistence
import Testing

/// The background role against fakes and a held clock: completion, retirement, stuck recovery on its
/// interval, idle tenants.
struct BackgroundJobsTests {
    let journal = Journal()
    let clock = ManualClock()
    var settings: PipelineSettings {
        var settings = PipelineSettings()
        settings.recoveryIntervalMs = 60_000
        settings.stuckAfterMs = 300_000
        settings.tenantIdleMs = 600_000
        return settings
    }

    func jobs(_ books: FakeBooks, _ hot: FakeHotCounters, _ tenants: FakeTenantQueues, _ publisher: FakePublisher,
              repair: FakeRepair? = nil) -> BackgroundJobs {
        BackgroundJobs(books: books, hot: hot, repair: repair ?? FakeRepair(journal), tenants: tenants, deadLetters: NoPruning(), publisher: publisher, leadership: AlwaysLeader(),
                       clock: clock, settings: settings, logger: quietLogger)
    }

    @Test("a synced batch whose every owed recipient is decided is completed and retired; one short of it is not")
    func completes() async throws {
        let books = FakeBooks(journal), hot = FakeHotCounters(journal)
        hot.counters.withLock {
            $0 = ["done": BatchCounters(["sent": 7, "failed": 2, "suppressed": 1]), "short": BatchCounters(["sent": 9]),
                  "cancelled": BatchCounters(["cancelled": 4]), "gone": BatchCounters()]
        }
        books.progress.withLock {
            $0 = [.init(id: "done", status: "processing", owed: 10, expanded: true, quietMs: 0),
                  .init(id: "short", status: "processing", owed: 10, expanded: true, quietMs: 0),
                  .init(id: "cancelled", status: "cancelled", owed: 10, expanded: true, quietMs: 60_000)]
        }
        try await jobs(books, hot, FakeTenantQueues(journal), FakePublisher(journal)).syncCounters()
        #expect(journal.all == ["retire gone", "complete done", "retire done", "cancel cancelled", "retire cancelled"])
    }

    @Test("counters Redis does not vouch for are neither stored nor acted on: no completion, no retirement")
    func untrustedCountersLeftAlone() async throws {
        let books = FakeBooks(journal), hot = FakeHotCounters(journal)
        var lost = BatchCounters(["sent": 3])
        lost.trusted = false
        hot.counters.withLock { $0 = ["lost": lost, "kept": BatchCounters(["sent": 10])] }
        books.progress.withLock {
            $0 = [.init(id: "lost", status: "processing", owed: 3, expanded: true, quietMs: 0),
                  .init(id: "kept", status: "processing", owed: 10, expanded: true, quietMs: 0)]
        }
        try await jobs(books, hot, FakeTenantQueues(journal), FakePublisher(journal)).syncCounters()
        #expect(journal.all == ["complete kept", "retire kept"])
    }

    @Test("a cancelled batch's flag is set again on every sync while it is kept (a cancel that answered 503 still stops the senders)")
    func cancelReasserted() async throws {
        let books = FakeBooks(journal), hot = FakeHotCounters(journal)
        hot.counters.withLock { $0 = ["c": BatchCounters(["sent": 2])] }
        books.progress.withLock { $0 = [.init(id: "c", status: "cancelled", owed: 10, expanded: true, quietMs: 0)] }
        try await jobs(books, hot, FakeTenantQueues(journal), FakePublisher(journal)).syncCounters()
        #expect(journal.all == ["cancel c"])
    }

    @Test("a batch paused or resumed has its flag written again on every sync, as the rows say (a pause that answered 503 still stops the senders); one never paused is left alone")
    func pauseReasserted() async throws {
        let books = FakeBooks(journal), hot = FakeHotCounters(journal)
        hot.counters.withLock { $0 = ["p": BatchCounters(["sent": 2]), "r": BatchCounters(["sent": 1]), "n": BatchCounters(["sent": 1])] }
        books.progress.withLock {
            $0 = [.init(id: "p", status: "processing", owed: 10, expanded: true, quietMs: 0, pause: DeliveryState.Pause(version: 3, paused: true)),
                  .init(id: "r", status: "processing", owed: 10, expanded: true, quietMs: 0, pause: DeliveryState.Pause(version: 4, paused: false)),
                  .init(id: "n", status: "processing", owed: 10, expanded: true, quietMs: 0)]
        }
        try await jobs(books, hot, FakeTenantQueues(journal), FakePublisher(journal)).syncCounters()
        #expect(journal.all == ["pause p v3", "resume r v4"])
    }

    @Test("Redis restarted or lost data: every batch in progress and every batch a claim found unvouched for is rebuilt from its rows, once, after the overrides and tenants are put back; then the epoch is done")
    func rebuildsAfterLoss() async throws {
        let books = FakeBooks(journal), repair = FakeRepair(journal)
        books.processing.withLock { $0 = ["b2", "b1"] }
        repair.lost.withLock { $0 = ("e2", true, ["b1", "done-yesterday"]) }
        let hot = FakeHotCounters(journal)
        hot.counters.withLock { $0 = ["b3": BatchCounters()] }
        hot.counters.withLock { $0["b3"]?.trusted = false }
        let background = jobs(books, hot, FakeTenantQueues(journal), FakePublisher(journal), repair: repair)
        var lastRecovery = clock.nowMilliseconds
        try await background.tick(lastRecovery: &lastRecovery)
        #expect(journal.all == ["restoreShared", "rebuild b1", "rebuild done-yesterday", "rebuild b2", "rebuild b3", "rebuiltEverything e2"],
                "the batches claims wait on first; then every batch in progress, and every batch still synced (b3, cancelled)")
        try await background.tick(lastRecovery: &lastRecovery)
        #expect(journal.all.count == 6, "nothing more to rebuild")
    }

    @Test("a batch that cannot be rebuilt now holds back neither the others nor the sync, and is the only one rebuilt again next tick")
    func rebuildFailureIsolated() async throws {
        let books = FakeBooks(journal), hot = FakeHotCounters(journal), repair = FakeRepair(journal)
        books.processing.withLock { $0 = ["b1", "b2"] }
        repair.lost.withLock { $0 = ("e2", true, []) }
        repair.failing.withLock { $0 = ["b1"] }
        hot.counters.withLock { $0 = ["b3": BatchCounters(["sent": 1])] }
        books.progress.withLock { $0 = [.init(id: "b3", status: "processing", owed: 1, expanded: true, quietMs: 0)] }
        var lastRecovery = clock.nowMilliseconds
        try await jobs(books, hot, FakeTenantQueues(journal), FakePublisher(journal), repair: repair).tick(lastRecovery: &lastRecovery)
        #expect(journal.all == ["restoreShared", "rebuild b2", "rebuild b3", "rebuiltEverything e2 pending b1", "complete b3", "retire b3"])
        #expect(repair.lost.withLock { !$0.everything && $0.batches == ["b1"] }, "b1 alone is still to be done")
    }

    @Test("batches a claim found unvouched for are rebuilt alone when the epoch did not change")
    func rebuildsOnlyTheLost() async throws {
        let books = FakeBooks(journal), repair = FakeRepair(journal)
        books.processing.withLock { $0 = ["b1", "b2"] }
        repair.lost.withLock { $0 = ("e1", false, ["b2"]) }
        try await jobs(books, FakeHotCounters(journal), FakeTenantQueues(journal), FakePublisher(journal), repair: repair).repairHotState()
        #expect(journal.all == ["rebuild b2"])
    }

    @Test("a batch the ledger will not complete yet (a row still waits) keeps its hot state")
    func notCompletedNotRetired() async throws {
        let books = FakeBooks(journal), hot = FakeHotCounters(journal)
        hot.counters.withLock { $0 = ["b": BatchCounters(["sent": 10])] }
        books.progress.withLock { $0 = [.init(id: "b", status: "processing", owed: 10, expanded: true, quietMs: 0)] }
        books.rowsStillWaiting.withLock { $0 = ["b"] }
        try await jobs(books, hot, FakeTenantQueues(journal), FakePublisher(journal)).syncCounters()
        #expect(journal.all == ["complete b"])
    }

    @Test("stuck batches are looked for once per recovery interval of the clock, and each is restarted under a new job id")
    func recoversOnItsInterval() async throws {
        let books = FakeBooks(journal), hot = FakeHotCounters(journal), publisher = FakePublisher(journal)
        books.stuckBatches.withLock { $0 = [("b1", "u1")] }
        let background = jobs(books, hot, FakeTenantQueues(journal), publisher)
        var lastRecovery = clock.nowMilliseconds
        try await background.tick(lastRecovery: &lastRecovery)
        clock.advance(by: 59_999)
        try await background.tick(lastRecovery: &lastRecovery)
        #expect(books.stuckAsks.withLock { $0 } == 0)
        clock.advance(by: 1)
        try await background.tick(lastRecovery: &lastRecovery)
        #expect(books.stuckAsks.withLock { $0 } == 1)
        #expect(journal.all == ["rebuild b1", "restart b1", "activate b1", "publish batch:b1:3"])
        clock.advance(by: 30_000)
        try await background.tick(lastRecovery: &lastRecovery)
        #expect(books.stuckAsks.withLock { $0 } == 1)
    }

    @Test("a quiet batch waiting on its limits is not restarted: one a sender handed back lately, one due back in an hour (a daily quota); one nobody handled is")
    func waitingIsNotStuck() async throws {
        let books = FakeBooks(journal), hot = FakeHotCounters(journal), publisher = FakePublisher(journal)
        let now = clock.nowMilliseconds
        books.stuckBatches.withLock { $0 = [("handled", "u1"), ("quota", "u1"), ("gone", "u2"), ("lost", "u3")] }
        hot.counters.withLock {
            $0 = ["handled": BatchCounters(["last": Int(now - 60_000), "due": Int(now - 59_000)]),
                  "quota": BatchCounters(["last": Int(now - 7_200_000), "due": Int(now + 3_600_000)]),
                  "gone": BatchCounters(["last": Int(now - 300_000), "due": Int(now - 300_000)])]
        }
        let background = jobs(books, hot, FakeTenantQueues(journal), publisher)
        try await background.recoverStuck()
        // "lost": no hot state at all (Redis lost it), so the quiet alone decides.
        #expect(journal.all == ["rebuild gone", "restart gone", "activate gone", "publish batch:gone:3", "rebuild lost", "restart lost", "activate lost", "publish batch:lost:3"])

        // The quota's hour passes and no sender comes back to it: stuck once `stuck_after_ms` is over after it was due.
        books.stuckBatches.withLock { $0 = [("quota", "u1")] }
        clock.advance(by: 3_600_000 + 299_999)
        try await background.recoverStuck()
        #expect(!journal.all.contains("restart quota"))
        clock.advance(by: 1)
        try await background.recoverStuck()
        #expect(journal.all.suffix(3) == ["restart quota", "activate quota", "publish batch:quota:3"])
    }

    @Test("the liveness rule: the later of the last handling and the due time, plus stuck_after_ms", arguments: [
        (lastHandled: Int64(0), due: Int64(0), stuck: true),
        (lastHandled: Int64(700_001), due: Int64(0), stuck: false),
        (lastHandled: Int64(700_000), due: Int64(0), stuck: true),
        (lastHandled: Int64(0), due: Int64(999_999), stuck: false),
        (lastHandled: Int64(100), due: Int64(700_000), stuck: true),
    ])
    func livenessRule(lastHandled: Int64, due: Int64, stuck: Bool) {
        #expect(BatchLiveness.isStuck(nowMs: 1_000_000, lastHandledMs: lastHandled, dueMs: due, stuckAfterMs: 300_000) == stuck)
    }

    @Test("an idle tenant without work loses its queue; one with work, one seen lately, keep theirs; one announced meanwhile gets it back")
    func idleTenants() async throws {
        let tenants = FakeTenantQueues(journal)
        let now = clock.nowMilliseconds
        tenants.announced.withLock { $0 = ["idle": now - 600_000, "busy": now - 700_000, "recent": now - 599_999, "returning": now - 900_000] }
        tenants.working.withLock { $0 = ["busy"] }
        tenants.reannounceOnRemoval.withLock { $0 = ["returning"] }
        try await jobs(FakeBooks(journal), FakeHotCounters(journal), tenants, FakePublisher(journal)).removeIdleTenants()
        #expect(journal.all == ["removeQueue idle", "removeQueue returning", "restoreQueue returning"])
        #expect(Set(try await tenants.tenants().map(\.userID)) == ["busy", "recent", "returning"])
    }

    @Test("an idle tenant whose backlog cannot be read keeps its queue and its place in the registry; it is removed once a read finds it empty")
    func unreadableBacklog() async throws {
        let tenants = FakeTenantQueues(journal)
        let now = clock.nowMilliseconds
        tenants.announced.withLock { $0 = ["nil": now - 700_000, "throws": now - 700_000, "idle": now - 700_000] }
        tenants.unreadable.withLock { $0 = ["nil"] }
        tenants.failing.withLock { $0 = ["throws"] }
        let background = jobs(FakeBooks(journal), FakeHotCounters(journal), tenants, FakePublisher(journal))
        try await background.removeIdleTenants()
        #expect(journal.all == ["removeQueue idle"], "a failed read is no proof of an empty queue")
        #expect(Set(try await tenants.tenants().map(\.userID)) == ["nil", "throws"])
        tenants.unreadable.withLock { $0 = [] }
        tenants.failing.withLock { $0 = [] }
        try await background.removeIdleTenants()
        #expect(journal.all == ["removeQueue idle", "removeQueue nil", "removeQueue throws"])
    }
}
