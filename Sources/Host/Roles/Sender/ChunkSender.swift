import Analytics
import Domain
import HostCore
import Messaging
import Persistence
import ProviderInstances
import ProviderModel
import Templating

/// Sends the claimed recipients of one chunk through the send-config's plugin
/// instance and turns each provider outcome into what the pipeline records,
/// as `OutcomePolicy` decides.
struct ChunkSender: Sendable {
    let client: any HTTPClient
    let policy: OutcomePolicy
    let gate: RequestGate
    /// The one-click unsubscribe links bulk email carries; nil when the operator turned them off.
    var unsubscribe: UnsubscribeLinks? = nil
    /// Where the files of a batch's emails are read; nil in a sender that never sends them (a unit test's).
    var attachments: AttachmentCache? = nil
    /// Whether each send-config's provider is answering; nil in a sender that never holds chunks back (a unit test's).
    var circuits: SendConfigCircuits? = nil
    /// The memory emails with files may hold at once in this sender (shared by its lanes).
    var fileBudget = FileSendBudget()

    /// How long a chunk waits when its batch's files cannot be read (PostgreSQL not answering).
    static let filesUnreadableWaitMs: Int64 = 2_000

    /// What became of a chunk's claimed recipients.
    struct Result: Sendable {
        var entries: [DeliveryState.Entry] = []
        var rows: [BatchLedger.RowUpdate] = []
        /// Recipients out of attempts, for the dead-letter stream, with their last reason.
        var exhausted: [(recipient: ChunkJob.Recipient, reason: String)] = []
        /// When the chunk should come back for what is still unsent; nil when nothing is.
        var retryInMs: Int64?

        mutating func later(_ delay: Int64) { retryInMs = max(retryInMs ?? 0, delay) }

        /// Whether a provider accepted a message this round (a row of an outcome recorded before has no entry).
        var sentNow: Bool { entries.contains { if case .final(_, .sent) = $0 { true } else { false } } }

        mutating func final(_ recipient: ChunkJob.Recipient, _ outcome: DeliveryState.Outcome, attempts: Int) {
            entries.append(.final(position: recipient.position, outcome))
            rows.append(Self.row(recipient.position, outcome, attempts: attempts))
        }

        /// The recipient row an outcome writes.
        static func row(_ position: Int, _ outcome: DeliveryState.Outcome, attempts: Int) -> BatchLedger.RowUpdate {
            switch outcome {
            case .sent(let id): .init(position: position, status: .sent, providerMessageID: id, attempts: attempts)
            case .failed(let reason): .init(position: position, status: .failed, lastError: reason, attempts: attempts)
            case .cancelled, .suppressed: .init(position: position, status: outcome.status, attempts: attempts)
            }
        }
    }

    /// Sends each of `requests` (cut by `ClaimTriage`) as one call of the plugin.
    /// `probe`: the send-config's circuit is half-open (`CircuitBreaker`): only the first request goes, and if the
    /// provider does not answer it, its recipients wait as the others do, spending no attempt.
    func send(_ job: ChunkJob, requests allGroups: [[ClaimTriage.Claimed]],
              route: Swift.Result<SendConfigInstances.Route, SendConfigProblem>, probe: Bool = false) async -> Result {
        var result = Result()
        let groups = probe ? Array(allGroups.prefix(1)) : allGroups
        for (recipient, _) in allGroups.dropFirst(groups.count).joined() { result.entries.append(.released(position: recipient.position)) }
        if groups.count < allGroups.count { result.later(CircuitBreaker.openMs) }
        guard !groups.isEmpty else { return result }
        let instance: PluginInstance
        switch route.map(\.instance) {
        case .failure(let problem):
            for (recipient, attempts) in groups.joined() { result.final(recipient, .failed(reason: problem.description), attempts: attempts) }
            if probe { await circuits?.probeUnsent(job.sendConfigID, provider: "") }
            return result
        case .success(let made): instance = made
        }
        let provider = (try? route.get().provider) ?? instance.plugin.descriptor.id
        // The circuit of the config the requests go through: the chunk's own, or the fallback standing in for it.
        let circuit = (try? route.get().sendConfigID) ?? job.sendConfigID
        let delivery = Delivery(instance: instance, client: client)
        // One per job: every recipient of a chunk has the same sender.
        let signer = job.common.channel == .email && job.listUnsubscribe ? unsubscribe?.signer(userID: job.userID, sendConfigID: job.sendConfigID) : nil
        var files: [Attachment] = []
        if job.mayCarryFiles, let attachments {
            do {
                files = try await attachments.files(batchID: job.batchID)
                if job.attachmentCountKnown, files.count != job.attachmentCount {
                    throw AttachmentMissing(batchID: job.batchID, id: "(\(files.count) stored of \(job.attachmentCount))")
                }
            } catch let missing as AttachmentMissing {
                // Never expected (files are only hidden, never removed): the recipients fail rather than go without them.
                for (recipient, attempts) in groups.joined() { result.final(recipient, .failed(reason: missing.description), attempts: attempts) }
                if probe { await circuits?.probeUnsent(circuit, provider: provider) }
                return result
            } catch {
                // PostgreSQL not answering: the chunk waits as a throttled one does, and is never sent without its files.
                for (recipient, _) in groups.joined() { result.entries.append(.released(position: recipient.position)) }
                result.later(Self.filesUnreadableWaitMs)
                if probe { await circuits?.probeUnsent(circuit, provider: provider) }
                return result
            }
        } else if job.attachmentCount > 0 {
            for (recipient, attempts) in groups.joined() {
                result.final(recipient, .failed(reason: "this sender has no store of attachments to read the batch's files from"), attempts: attempts)
            }
            return result
        }
        // Emails with files wait for their share of the sender's memory before they are built.
        let held = files.isEmpty ? 0 : await fileBudget.share(fileBytes: files.reduce(0) { $0 + $1.content.count }, messages: groups.joined().count)
        if held > 0 { await fileBudget.acquire(held) }
        let answers = await withTaskGroup(of: (Int, [SendOutcome]?, String?).self) { tasks in
            for (index, group) in groups.enumerated() {
                let messages = group.map { job.message(for: $0.recipient, unsubscribe: signer, attachments: files) }
                tasks.addTask {
                    await gate.withPermit {
                        let start = ContinuousClock.now
                        defer { SenderMetrics.requestDuration(provider, nanoseconds: (ContinuousClock.now - start).nanoseconds) }
                        do { return (index, try await delivery.send(messages), nil) } catch { return (index, nil, "\(error)") }
                    }
                }
            }
            var answers: [(index: Int, outcomes: [SendOutcome]?, failure: String?)] = []
            for await answer in tasks { answers.append(answer) }
            return answers.sorted { $0.index < $1.index }.map { ($0.outcomes, $0.failure) }
        }
        if held > 0 { await fileBudget.release(held) }
        // A request the provider answered (whatever it said) against one that got a 5xx or no answer at all.
        let answered = answers.compactMap(\.0)
        let failed = answered.count { outcomes in !outcomes.isEmpty && outcomes.allSatisfy { $0.kind == .retryable && $0.code != Delivery.pluginError } }
        await circuits?.record(circuit, provider: provider, requests: answered.count, failed: failed, probe: probe)
        let probeFailed = probe && (answered.isEmpty || failed == answered.count)
        // Counted per chunk, not per message: each metric update is a registry lookup under a lock.
        var tally: [String: Int] = [:]
        defer {
            for (name, count) in tally { SenderMetrics.outcome(provider, name, count: count) }
            SenderMetrics.retries(provider, count: result.entries.count { if case .attemptUsed = $0 { true } else { false } })
        }
        for (group, (outcomes, failure)) in zip(groups, answers) {
            guard let outcomes else {
                // The plugin broke its contract or refused the call as a whole: a plugin fault, not the recipients',
                // so it counts as a transient failure (an attempt used) and ends in failed if it persists.
                SenderMetrics.pluginError(provider, call: "send")
                tally["plugin_error", default: 0] += group.count
                for (recipient, attempts) in group {
                    apply(.retryable(0, code: "plugin_error", failure ?? "the plugin failed"), to: recipient, attempts: attempts, &result)
                }
                continue
            }
            if outcomes.contains(where: { $0.code == Delivery.pluginError }) { SenderMetrics.pluginError(provider, call: "interpret") }
            for outcome in outcomes where outcome.messageIndex < group.count {
                let (recipient, attempts) = group[outcome.messageIndex]
                tally[SenderMetrics.name(outcome), default: 0] += 1
                if probeFailed, outcome.kind == .retryable {
                    // The provider is still down: the probe's recipients wait with the rest, their attempts kept. Their
                    // row says a request went out (it may have been taken), so that a rebuild of Redis's state keeps
                    // them bound to this config (`Recipients.pinnedPage`).
                    result.entries.append(.released(position: recipient.position))
                    result.rows.append(.init(position: recipient.position, status: .queued,
                                             lastError: "the provider did not take the probe: \(outcome.message)", attempts: attempts))
                    result.later(CircuitBreaker.openMs)
                    continue
                }
                apply(outcome, to: recipient, attempts: attempts, &result)
            }
        }
        return result
    }

    private func apply(_ outcome: SendOutcome, to recipient: ChunkJob.Recipient, attempts: Int, _ result: inout Result) {
        switch policy.decide(outcome, attemptsBefore: attempts) {
        case .sent(let id, let used):
            result.final(recipient, .sent(providerMessageID: id), attempts: used)
        case .failed(let reason, let used):
            result.final(recipient, .failed(reason: reason), attempts: used)
        case .throttled(let wait):
            result.entries.append(.released(position: recipient.position))
            result.later(wait)
        case .exhausted(let reason, let last, let used):
            result.final(recipient, .failed(reason: reason), attempts: used)
            result.exhausted.append((recipient, last))
        case .retry(let reason, let used, let wait):
            result.entries.append(.attemptUsed(position: recipient.position))
            result.rows.append(.init(position: recipient.position, status: .queued, lastError: reason, attempts: used))
            result.later(wait)
        }
    }
}
