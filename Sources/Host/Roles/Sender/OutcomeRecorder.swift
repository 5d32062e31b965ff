import Analytics
import Domain
import HostCore
import Logging
import Messaging
import Persistence
import ProviderInstances

/// Writes down what a round's sends became, in the order that survives a crash between any two steps: the
/// dead letters first, then Redis (the truth of "already sent"), then the rows, then the events. Dead letters
/// that cannot be stored hold back only their own recipients' outcomes.
///
/// A dead letter is stored before its recipients' outcome: once Redis holds `done(failed)`, a redelivered job
/// skips them, so a letter published only after it would be lost to a crash in between, and `dlq redrive`
/// would never find its recipients. Published first, a crash before the outcome leaves a letter whose
/// recipients are tried again: the retry either sends them (the redrive skips recipients whose rows are not
/// failed) or exhausts them again and publishes the same letter, under the same `Nats-Msg-Id`, which
/// JetStream drops.
struct OutcomeRecorder: Sendable {
    let claims: any ClaimBook
    let books: any OutcomeBooks
    let events: any EventRecording
    let publisher: any JobPublishing
    let clock: any WallClock

    func record(_ jobs: [ChunkJob], _ results: [ChunkSender.Result?],
                routes: [String: Result<SendConfigInstances.Route, SendConfigProblem>] = [:]) async throws {
        var entries: [String: [DeliveryState.Entry]] = [:]
        var rows: [String: [BatchLedger.RowUpdate]] = [:]
        var dead: [OutgoingMessage] = []
        var deadByProvider: [String: Int] = [:]
        for (job, result) in zip(jobs, results) {
            guard let result else { continue }
            entries[job.batchID, default: []] += result.entries
            rows[job.batchID, default: []] += result.rows
            if !result.exhausted.isEmpty {
                deadByProvider[(try? routes[job.sendConfigID]?.get().provider) ?? "", default: 0] += result.exhausted.count
                dead.append(DeadLetter(job: job, exhausted: result.exhausted).message)
            }
        }
        let letters = dead
        var unstored: (any Error)?
        if !letters.isEmpty {
            do {
                try await retrying { try await publisher.publish(letters) }
                for (provider, count) in deadByProvider { SenderMetrics.deadLetters(provider, count: count) }
            } catch {
                // Letters that cannot be stored hold back only their own recipients: they are let go undecided
                // (tried again, and exhausted again, when their job comes back), while every other outcome of the
                // round is recorded, or the recipients it sent would be sent again.
                unstored = error
                for (job, result) in zip(jobs, results) {
                    guard let result, !result.exhausted.isEmpty else { continue }
                    let held = Set(result.exhausted.map(\.recipient.position))
                    entries[job.batchID] = entries[job.batchID]?.map { entry in
                        if case .final(let position, _) = entry, held.contains(position) { return .unclaimed(position: position) }
                        return entry
                    }
                    rows[job.batchID]?.removeAll { held.contains($0.position) }
                }
            }
        }
        let now = clock.nowMilliseconds
        try await retrying { try await claims.record(entries, nowMs: now) }
        let writes = rows
        var written: [String: [BatchLedger.Written]] = [:]
        try await retrying { written = try await books.write(writes) }
        // Only rows this write changed are events: a chunk redone after a crash counts nothing twice.
        var events: [AnalyticsEvent] = []
        // Which config sent each row (a fallback's, `RowUpdate.sentVia`), for the events' send-config and provider.
        var via: [String: [Int: String]] = [:]
        for (job, result) in zip(jobs, results) {
            for row in result?.rows ?? [] { if let sentVia = row.sentVia { via[job.batchID, default: [:]][row.position] = sentVia } }
        }
        for job in jobs {
            guard let rows = written.removeValue(forKey: job.batchID) else { continue }
            // The sent recipients of a batch are one event per config that sent them, counted: what analytics reads
            // of them is how many. A batch no fallback sent for looks nothing up per row.
            let sentVia = via[job.batchID] ?? [:]
            var sent: [(config: String, first: Int, count: Int)] = []
            for row in rows {
                guard let type = AnalyticsEventType.outcome(row.status) else { continue }
                let config = sentVia.isEmpty ? job.sendConfigID : sentVia[row.position] ?? job.sendConfigID
                if type == .sent {
                    if let index = sent.firstIndex(where: { $0.config == config }) {
                        sent[index].first = min(sent[index].first, row.position)
                        sent[index].count += 1
                    } else {
                        sent.append((config, row.position, 1))
                    }
                    continue
                }
                events.append(AnalyticsEvent(timeMs: now, userID: job.userID, batchID: job.batchID, recipient: row.position,
                                             sendConfigID: config, provider: (try? routes[config]?.get().provider) ?? "", type: type,
                                             reason: row.lastError ?? "", providerMessageID: row.providerMessageID ?? ""))
            }
            for sent in sent.sorted(by: { $0.first < $1.first }) {
                events.append(AnalyticsEvent(timeMs: now, userID: job.userID, batchID: job.batchID, recipient: sent.first,
                                             sendConfigID: sent.config, provider: (try? routes[sent.config]?.get().provider) ?? "", type: .sent,
                                             count: sent.count))
            }
        }
        self.events.record(events)
        // The round's jobs come back (nak), so the recipients held back are tried again.
        if let unstored { throw unstored }
    }

    /// How long a write that follows a send is retried: longer than a server takes to restart (Redis reloading
    /// its file, PostgreSQL, NATS), since the round's claims stay held until it is recorded and a record that
    /// gives up leaves them to expire (`claim_hold_ms`) before the chunk is sent on.
    static let retryForMs: Int64 = 15_000

    /// The send is done, so its record is worth retrying: doubling waits from 100 ms, at most 2 s apart.
    private func retrying(_ body: () async throws -> Void) async throws {
        var delay: Int64 = 100, waited: Int64 = 0
        while true {
            do { return try await body() } catch {
                if waited >= Self.retryForMs { throw error }
                await clock.sleep(milliseconds: delay)
                waited += delay
                delay = min(delay * 2, 2_000)
            }
        }
    }
}
