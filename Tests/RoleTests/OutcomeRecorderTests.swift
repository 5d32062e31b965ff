import Analytics
import Domain
import Messaging
import Persistence
import ProviderModel
@testable import Sender
import Synchronization
import Testing

/// The order the sender writes a round's outcomes in, with a crash (a store failing for good) between any two
/// steps: no recipient is left `done(failed)` in Redis without its dead letter.
struct OutcomeRecorderTests {
    let job = ChunkJob(batchID: "b1", userID: "u1", sendConfigID: "c1", common: OutboundMessage(id: "m", channel: .email),
                       recipients: (0..<4).map { ChunkJob.Recipient(position: $0, address: "r\($0)@example.com") })

    /// Recipients 1 and 3 out of attempts, 0 sent, 2 back later.
    var result: ChunkSender.Result {
        var result = ChunkSender.Result()
        result.final(job.recipients[0], .sent(providerMessageID: "p0"), attempts: 1)
        for index in [1, 3] {
            result.final(job.recipients[index], .failed(reason: "503 five times"), attempts: 5)
            result.exhausted.append((job.recipients[index], "503 five times"))
        }
        result.entries.append(.attemptUsed(position: 2))
        result.later(1_000)
        return result
    }

    enum Step: String, CaseIterable { case publish, redis, rows }

    /// Runs one round's record with `failing` failing every try; what reached each store.
    func record(failing: Step?) async -> (journal: [String], threw: Bool) {
        let journal = Journal()
        let recorder = OutcomeRecorder(claims: RecordingClaims(journal, fails: failing == .redis),
                                       books: RecordingBooks(journal, fails: failing == .rows), events: NoEvents(),
                                       publisher: FailablePublisher(journal, fails: failing == .publish), clock: ManualClock())
        do {
            try await recorder.record([job], [result])
            return (journal.all, false)
        } catch {
            return (journal.all, true)
        }
    }

    @Test("a dead letter is stored before the outcome that makes a redelivered job skip its recipients", arguments: Step.allCases)
    func deadLetterBeforeOutcome(failing: Step) async {
        let (journal, threw) = await record(failing: failing)
        #expect(threw)
        // Redis holding `done(failed)` for 1 and 3 means their letter is in the stream, stored before.
        let exhaustedRecorded = journal.firstIndex { $0.hasPrefix("redis") && $0.contains("final 1 failed") }
        if let exhaustedRecorded {
            let published = journal.firstIndex { $0.hasPrefix("publish dead:b1:") }
            #expect(published.map { $0 < exhaustedRecorded } == true, "\(journal)")
        }
    }

    @Test("letters that cannot be stored hold back only their recipients: the rest of the round is recorded, they are let go undecided, and the round's jobs come back")
    func unstoredLetterHoldsBackOnlyItsRecipients() async {
        let (journal, threw) = await record(failing: .publish)
        #expect(threw, "the jobs are nak'ed, so 1 and 3 are tried again")
        #expect(journal == ["redis final 0 sent, unclaimed 1, unclaimed 3, attempt 2", "rows 0"], "\(journal)")
    }

    @Test("a round recorded in full: the letter, then Redis, then the rows")
    func fullOrder() async {
        let (journal, threw) = await record(failing: nil)
        #expect(!threw)
        #expect(journal.map { String($0.prefix { $0 != " " }) } == ["publish", "redis", "rows"], "\(journal)")
    }

    @Test("a dead letter's message id: the same letter twice is one, a later one after a redrive is another, other recipients another")
    func deadLetterIDs() {
        let exhausted = [(job.recipients[1], "a"), (job.recipients[3], "b")]
        let letter = DeadLetter(job: job, exhausted: exhausted)
        #expect(letter.message.id == DeadLetter(job: job, exhausted: exhausted.map { ($0.0, "another reason") }).message.id)
        var redriven = job
        redriven.redriveRound = 1
        #expect(DeadLetter(job: redriven, exhausted: exhausted).message.id != letter.message.id)
        #expect(DeadLetter(job: job, exhausted: [exhausted[0]]).message.id != letter.message.id)
        // The round travels with the job.
        #expect((try? ChunkJob(decoding: redriven.encoded()))?.redriveRound == 1)
        #expect((try? ChunkJob(decoding: job.encoded()))?.redriveRound == 0)
    }

    @Test("a redrive sends again only recipients whose rows failed before a provider took them, and waits while one is undecided")
    func redrivePlan() {
        let letter = DeadLetter(job: job, exhausted: job.recipients.map { ($0, "x") })
        #expect(letter.plan(standing: [0: (.failed, false), 1: (.sent, true), 2: (.failed, true), 3: (.cancelled, false)]) == .redrive([0]))
        #expect(letter.plan(standing: [0: (.failed, false), 1: (.queued, false), 2: (.failed, false), 3: (.failed, false)]) == .wait)
        #expect(letter.plan(standing: [0: (.delivered, true), 1: (.sent, true)]) == .redrive([]))
        // No row of its batch here (another deployment's letter): kept, never removed by this database's redrive.
        #expect(letter.plan(standing: [:]) == .notHere)
    }
}

final class RecordingClaims: ClaimBook {
    let journal: Journal
    let fails: Bool
    init(_ journal: Journal, fails: Bool) {
        self.journal = journal
        self.fails = fails
    }
    func claim(_ chunks: [(batchID: String, positions: [Int])], nowMs: Int64, holdMs: Int64) async throws -> [[DeliveryState.Claim]] { [] }
    func record(_ entries: [String: [DeliveryState.Entry]], nowMs: Int64) async throws {
        if fails { throw FakeFailure() }
        let described = entries.values.joined().map { entry -> String in
            switch entry {
            case .final(let position, let outcome): "final \(position) \(outcome.status.rawValue)"
            case .attemptUsed(let position): "attempt \(position)"
            case .released(let position): "released \(position)"
            case .unclaimed(let position): "unclaimed \(position)"
            }
        }
        journal.note("redis " + described.joined(separator: ", "))
    }
    func extend(_ chunks: [(batchID: String, positions: [Int])], from: [Int64], to: Int64) async throws {}
    func keepTogether(_ requests: [String: [DeliveryState.KeptRequest]]) async throws {}
    func expectBack(_ dues: [String: Int64]) async throws {}
}

final class RecordingBooks: OutcomeBooks {
    let journal: Journal
    let fails: Bool
    init(_ journal: Journal, fails: Bool) {
        self.journal = journal
        self.fails = fails
    }
    func write(_ updates: [String: [BatchLedger.RowUpdate]]) async throws -> [String: [BatchLedger.Written]] {
        if fails { throw FakeFailure() }
        journal.note("rows " + updates.values.joined().map { "\($0.position)" }.joined(separator: ","))
        return [:]
    }
    func tenantsWithBatchesInProgress() async throws -> [String] { [] }
}

final class FailablePublisher: JobPublishing {
    let journal: Journal
    let fails: Bool
    init(_ journal: Journal, fails: Bool) {
        self.journal = journal
        self.fails = fails
    }
    func publish(_ messages: [OutgoingMessage]) async throws {
        if fails { throw FakeFailure() }
        for message in messages { journal.note("publish \(message.id ?? "")") }
    }
}

struct NoEvents: EventRecording {
    func record(_ events: [AnalyticsEvent]) {}
}
