import HostCore
import Pipeline
import ProviderModel

/// Sends the claimed recipients of one chunk through the send-config's plugin
/// instance and turns each provider outcome into what the pipeline records:
/// accepted → sent; permanent → failed with the provider's code and message;
/// throttled → wait, no attempt used; transient → one attempt used, then
/// failed with the last reason once the attempts run out.
struct ChunkSender: Sendable {
    let instances: SendConfigInstances
    let client: any HTTPClient
    let settings: PipelineSettings
    let gate: RequestGate

    /// What became of a chunk's claimed recipients.
    struct Result: Sendable {
        var entries: [HotState.Entry] = []
        var rows: [BatchLedger.RowUpdate] = []
        /// Recipients out of attempts, for the dead-letter stream, with their last reason.
        var exhausted: [(recipient: ChunkJob.Recipient, reason: String)] = []
        /// When the chunk should come back for what is still unsent; nil when nothing is.
        var retryInMs: Int64?

        mutating func later(_ delay: Int64) { retryInMs = max(retryInMs ?? 0, delay) }

        mutating func final(_ recipient: ChunkJob.Recipient, _ outcome: HotState.Outcome, attempts: Int) {
            entries.append(.final(position: recipient.position, outcome))
            rows.append(Self.row(recipient.position, outcome, attempts: attempts))
        }

        /// The recipient row an outcome writes.
        static func row(_ position: Int, _ outcome: HotState.Outcome, attempts: Int) -> BatchLedger.RowUpdate {
            switch outcome {
            case .sent(let id): .init(position: position, status: .sent, providerMessageID: id, attempts: attempts)
            case .failed(let reason): .init(position: position, status: .failed, lastError: reason, attempts: attempts)
            case .cancelled, .suppressed: .init(position: position, status: outcome.status, attempts: attempts)
            }
        }
    }

    func send(_ job: ChunkJob, claimed: [(recipient: ChunkJob.Recipient, attempts: Int)],
              route: Swift.Result<SendConfigInstances.Route, SendConfigProblem>) async -> Result {
        var result = Result()
        guard !claimed.isEmpty else { return result }
        let instance: PluginInstance
        switch route.map(\.instance) {
        case .failure(let problem):
            for (recipient, attempts) in claimed { result.final(recipient, .failed(reason: problem.description), attempts: attempts) }
            return result
        case .success(let made): instance = made
        }
        let provider = (try? route.get().provider) ?? instance.plugin.descriptor.id
        let maxBatch = max(1, instance.plugin.descriptor.maxBatch)
        let delivery = Delivery(instance: instance, client: client)
        let groups = stride(from: 0, to: claimed.count, by: maxBatch).map { Array(claimed[$0..<min($0 + maxBatch, claimed.count)]) }
        let answers = await withTaskGroup(of: (Int, [SendOutcome]?, String?).self) { tasks in
            for (index, group) in groups.enumerated() {
                let messages = group.map { job.message(for: $0.recipient) }
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
        // Counted per chunk, not per message: each metric update is a registry lookup under a lock.
        var tally: [String: Int] = [:]
        defer {
            for (name, count) in tally { SenderMetrics.outcome(provider, name, count: count) }
            // In this result only a retry writes its row back to `queued`.
            SenderMetrics.retries(provider, count: result.rows.count { $0.status == .queued })
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
                apply(outcome, to: recipient, attempts: attempts, &result)
            }
        }
        return result
    }

    private func apply(_ outcome: SendOutcome, to recipient: ChunkJob.Recipient, attempts: Int, _ result: inout Result) {
        let reason = outcome.code.isEmpty ? outcome.message : "\(outcome.code): \(outcome.message)"
        switch outcome.kind {
        case .accepted:
            result.final(recipient, .sent(providerMessageID: outcome.providerMessageId), attempts: attempts + 1)
        case .permanent:
            result.final(recipient, .failed(reason: reason), attempts: attempts + 1)
        case .retryable where Throttling.isThrottled(outcome), .throttled:
            result.entries.append(.released(position: recipient.position))
            result.later(outcome.retryAfterMs ?? settings.throttleDelayMs)
        case .retryable:
            let used = attempts + 1
            if used >= settings.maxAttempts {
                result.final(recipient, .failed(reason: "gave up after \(used) attempts; last: \(reason)"), attempts: used)
                result.exhausted.append((recipient, reason))
            } else {
                result.entries.append(.attemptUsed(position: recipient.position))
                result.rows.append(.init(position: recipient.position, status: .queued, lastError: reason, attempts: used))
                result.later(max(settings.backoffMs(attempts: used), outcome.retryAfterMs ?? 0))
            }
        }
    }
}
