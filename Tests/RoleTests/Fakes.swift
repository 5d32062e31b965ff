import Background
import Discoverer
import Domain
import Logging
import Messaging
import Persistence
import Synchronization

// In-memory stand-ins for what the roles read and write, each recording what it was asked.

final class Journal: Sendable {
    private let entries = Mutex<[String]>([])
    func note(_ entry: String) { entries.withLock { $0.append(entry) } }
    var all: [String] { entries.withLock { $0 } }
}

final class FakePublisher: JobPublishing {
    let journal: Journal
    private let published = Mutex<[OutgoingMessage]>([])
    init(_ journal: Journal) { self.journal = journal }
    func publish(_ messages: [OutgoingMessage]) async throws {
        published.withLock { $0 += messages }
        for message in messages { journal.note("publish \(message.id ?? "")") }
    }
    var messages: [OutgoingMessage] { published.withLock { $0 } }
}

struct AlwaysLeader: Leadership {
    func hold() async -> Bool { true }
    func release() async {}
}

final class FakeQueuedBatches: QueuedBatches {
    let journal: Journal
    let due: [(id: String, userID: String)]
    init(_ journal: Journal, due: [(id: String, userID: String)]) {
        self.journal = journal
        self.due = due
    }
    func dueBatches(limit: Int) async throws -> [(id: String, userID: String, retry: Int)] { due.prefix(limit).map { ($0.id, $0.userID, 0) } }
    func markProcessing(_ ids: [String]) async throws -> [String] {
        journal.note("markProcessing \(ids.joined(separator: ","))")
        return ids
    }
}

final class FakeActivation: BatchActivating {
    let journal: Journal
    init(_ journal: Journal) { self.journal = journal }
    func open(_ batchID: String) async throws { journal.note("open \(batchID)") }
}

/// The batches table: progress per batch, and which batches count as stuck.
final class FakeBooks: BatchBooks {
    let journal: Journal
    let progress = Mutex<[BatchLedger.Progress]>([])
    let stuckBatches = Mutex<[(id: String, userID: String)]>([])
    let stuckAsks = Mutex(0)
    /// Batches whose completion the ledger refuses (a row still waits).
    let rowsStillWaiting = Mutex<Set<String>>([])
    init(_ journal: Journal) { self.journal = journal }
    func sync(_ counters: [String: BatchCounters]) async throws -> [BatchLedger.Progress] {
        progress.withLock { all in all.filter { counters[$0.id] != nil } }
    }
    func complete(batchID: String) async throws -> Bool {
        journal.note("complete \(batchID)")
        return !rowsStillWaiting.withLock { $0.contains(batchID) }
    }
    func stuck(quietMs: Int64) async throws -> [(id: String, userID: String)] {
        stuckAsks.withLock { $0 += 1 }
        return stuckBatches.withLock { $0 }
    }
    let processing = Mutex<[String]>([])
    func inProgress() async throws -> [String] { processing.withLock { $0 } }
    func restartExpansion(batchID: String) async throws -> Int? {
        journal.note("restart \(batchID)")
        return 3
    }
}

final class FakeHotCounters: HotCounters {
    let journal: Journal
    let counters = Mutex<[String: BatchCounters]>([:])
    init(_ journal: Journal) { self.journal = journal }
    func activeBatches() async throws -> [String] { counters.withLock { Array($0.keys).sorted() } }
    func counters(_ batchIDs: [String]) async throws -> [String: BatchCounters] { counters.withLock { $0 } }
    func retire(_ batchID: String) async throws { journal.note("retire \(batchID)") }
    func activate(_ batchID: String) async throws { journal.note("activate \(batchID)") }
    func cancel(_ batchID: String, nowMs: Int64) async throws -> Int {
        journal.note("cancel \(batchID)")
        return 0
    }
    func rewritePause(_ batchID: String, _ pause: DeliveryState.Pause) async throws {
        journal.note("\(pause.paused ? "pause" : "resume") \(batchID) v\(pause.version)")
    }
}

/// The repair of Redis's hot state: what it was asked to rebuild and put back.
final class FakeRepair: HotStateRepair {
    let journal: Journal
    let lost = Mutex<(epoch: String, everything: Bool, batches: [String])>(("e1", false, []))
    init(_ journal: Journal) { self.journal = journal }
    func unverified() async throws -> (epoch: String, everything: Bool, batches: [String]) { lost.withLock { $0 } }
    /// Batches whose rebuild fails (their rows cannot be read now).
    let failing = Mutex<Set<String>>([])
    func rebuild(batchID: String) async throws {
        if failing.withLock({ $0.contains(batchID) }) { throw FakeFailure() }
        journal.note("rebuild \(batchID)")
    }
    func restoreShared() async throws { journal.note("restoreShared") }
    func rebuiltEverything(epoch: String, pending: [String]) async throws {
        journal.note("rebuiltEverything \(epoch)" + (pending.isEmpty ? "" : " pending \(pending.joined(separator: ","))"))
        lost.withLock { $0 = (epoch, false, pending) }
    }
}

final class FakeTenantQueues: TenantQueueKeeping {
    let journal: Journal
    let announced = Mutex<[String: Int64]>([:])
    let working = Mutex<Set<String>>([])
    /// Announced again the moment its queue is removed (a batch started meanwhile).
    let reannounceOnRemoval = Mutex<Set<String>>([])
    /// Queues whose backlog cannot be read now (nil), and whose read fails.
    let unreadable = Mutex<Set<String>>([])
    let failing = Mutex<Set<String>>([])
    init(_ journal: Journal) { self.journal = journal }
    func tenants() async throws -> [(userID: String, announcedMs: Int64)] {
        announced.withLock { $0.map { ($0.key, $0.value) }.sorted { $0.0 < $1.0 } }
    }
    func hasWork(userID: String) async throws -> Bool? {
        if failing.withLock({ $0.contains(userID) }) { throw FakeFailure() }
        if unreadable.withLock({ $0.contains(userID) }) { return nil }
        return working.withLock { $0.contains(userID) }
    }
    func forget(userID: String, ifAnnouncedAt announcedMs: Int64) async throws -> Bool {
        announced.withLock { all in
            guard all[userID] == announcedMs else { return false }
            all[userID] = nil
            return true
        }
    }
    func removeQueue(userID: String) async throws {
        journal.note("removeQueue \(userID)")
        if reannounceOnRemoval.withLock({ $0.contains(userID) }) { announced.withLock { $0[userID] = .max } }
    }
    func restoreQueue(userID: String) async throws { journal.note("restoreQueue \(userID)") }
}

struct FakeFailure: Error {}

struct NoPruning: Pruning {
    func prune() async throws -> Int { 0 }
}

let quietLogger = Logger(label: "role-tests") { _ in SwiftLogNoOpLogHandler() }
