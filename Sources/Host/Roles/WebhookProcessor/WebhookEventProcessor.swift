import Analytics
import Domain
import HostCore
import Logging
import Messaging
import Metrics
import Persistence
import ProviderInstances
import ProviderModel
import ServiceLifecycle

/// The webhook processor: takes stored webhooks in rounds, parses them through
/// their plugin, skips events already applied (Redis remembers their ids for
/// longer than any provider retries), applies the rest in one PostgreSQL
/// transaction, and settles each stored webhook: acknowledged once applied,
/// tried again later while its message is not known yet (a webhook can
/// overtake the sender's write of the message id), kept as an orphan
/// `orphanAfterMs` after a round first looked for its message and did not
/// find it. Applying is idempotent, so a redelivered round is harmless.
/// An event PostgreSQL refuses is set aside while the rest of the round commits;
/// its webhook is tried again with a growing wait (`WebhookRetryPolicy`, counting
/// refusals), then dead-lettered; so is one whose config or plugin is missing
/// (a rolling deploy may bring it back). One its plugin cannot parse is
/// dead-lettered at once: nothing goes round forever.
public struct WebhookEventProcessor: Service {
    let rounds: ConsumerLoop
    let bus: MessageBus
    let settings: WebhookIngestSettings
    let instances: WebhookInstances
    let ledger: WebhookLedger
    let deadLetters: WebhookDeadLetters
    let memory: WebhookMemory
    let events: any EventRecording
    let providers: [String]
    let retry = WebhookRetryPolicy()
    let clock: any WallClock
    let logger: Logger

    public init(rounds: ConsumerLoop, bus: MessageBus, settings: WebhookIngestSettings, instances: WebhookInstances, ledger: WebhookLedger,
                deadLetters: WebhookDeadLetters, memory: WebhookMemory, events: any EventRecording, providers: [String],
                clock: any WallClock, logger: Logger) {
        self.rounds = rounds
        self.bus = bus
        self.settings = settings
        self.instances = instances
        self.ledger = ledger
        self.deadLetters = deadLetters
        self.memory = memory
        self.events = events
        self.providers = providers
        self.clock = clock
        self.logger = logger.role("webhook-processor")
    }

    /// `processorLanes` lanes, each fetching and applying rounds of its own: while one lane waits on
    /// PostgreSQL, another reads or parses. Their transactions keep events and lock recipients in one order
    /// (batch, position, then the event), so they do not deadlock on rows.
    public func run() async throws {
        // At 0 from the start, so that dashboards and alerts read a series before the first event.
        for provider in providers {
            _ = Counter(label: "webhook_events_applied_total", dimensions: [("provider", provider)])
            _ = Counter(label: "plugin_call_errors_total", dimensions: [("provider", provider), ("call", "parse")])
            _ = Counter(label: "webhook_dead_letters_total", dimensions: [("provider", provider)])
        }
        let fetchBatch = settings.fetchBatch
        await withDiscardingTaskGroup { group in
            for _ in 0..<settings.processorLanes {
                // Handed back at once rather than after the ack wait; applying them again later changes nothing twice.
                group.addTask { await rounds.run(size: { fetchBatch }, timeoutMs: 500, onFailure: .handBack(delayMs: 1_000)) { try await handle($0) } }
            }
        }
    }

    /// One stored webhook, read.
    struct Stored {
        var message: ReceivedMessage
        var envelope: WebhookEnvelope
        var events: Range<Int>
    }

    /// A stored webhook refused this round, and why.
    struct Refusal {
        var message: ReceivedMessage
        var envelope: WebhookEnvelope
        var reasons: [String]
    }

    func handle(_ messages: [ReceivedMessage]) async throws {
        var stored: [Stored] = []
        var incoming: [WebhookLedger.Incoming] = []
        // What cannot be applied however often it is tried: kept for an operator, then acknowledged.
        var dead: [WebhookDeadLetter] = []
        var acked: [ReceivedMessage] = []
        // What may apply later (a config or plugin missing during a rolling deploy, an event PostgreSQL refused).
        var refusals: [Refusal] = []
        for message in messages {
            guard let envelope = WebhookEnvelope.decode(message.data) else {
                logger.error("a stored webhook is not an envelope this version reads; dead-lettered", metadata: ["subject": "\(message.subject)"])
                dead.append(WebhookDeadLetter(unreadable: message.data, deliveries: message.deliveries, reason: "not a webhook envelope this version reads"))
                acked.append(message)
                continue
            }
            let events: [DeliveryEvent]
            switch try await instances.instance(provider: envelope.provider, sendConfigID: envelope.sendConfigID) {
            case .failure(let problem):
                refusals.append(Refusal(message: message, envelope: envelope, reasons: ["\(problem)"]))
                continue
            case .success(let instance):
                do { events = try instance.parse(envelope.request) } catch {
                    Counter(label: "plugin_call_errors_total", dimensions: [("provider", envelope.provider), ("call", "parse")]).increment()
                    logger.warning("a stored webhook cannot be parsed; dead-lettered", metadata: ["provider": "\(envelope.provider)", "error": "\(error)"])
                    dead.append(WebhookDeadLetter(envelope: envelope, bytes: message.data, deliveries: message.deliveries,
                                                  reasons: ["the plugin cannot parse it: \(error)"]))
                    acked.append(message)
                    continue
                }
            }
            let first = incoming.count
            for event in events where event.type != .subscriptionConfirmation {
                incoming.append(.init(provider: envelope.provider, sendConfigID: envelope.sendConfigID, event: event, receivedAtMs: envelope.receivedAtMs))
            }
            stored.append(Stored(message: message, envelope: envelope, events: first..<incoming.count))
        }

        // Events applied before (a provider's duplicate, a redelivery) cost one MGET, not a transaction.
        let digests = incoming.map(\.seenDigest)
        let seen = try await memory.applied(digests)
        let fresh = incoming.indices.filter { !(seen.indices.contains($0) && seen[$0]) }
        let outcome = try await ledger.apply(fresh.map { incoming[$0] })
        events.record(outcome.events)
        for (provider, count) in Dictionary(grouping: outcome.events, by: \.provider).mapValues(\.count) {
            Counter(label: "webhook_events_applied_total", dimensions: [("provider", provider)]).increment(by: count)
        }
        let unknown = Set(outcome.unknown.map { fresh[$0] })
        let failed = Dictionary(uniqueKeysWithValues: outcome.failed.map { (fresh[$0.key], $0.value) })
        let deferred = Set(outcome.deferred.map { fresh[$0] })

        var retried: [(message: ReceivedMessage, delayMs: Int64)] = []
        var orphans: [WebhookLedger.Incoming] = []
        var orphanOwners: [Int] = []
        var orphanAcks: [Int] = []
        var missing: [(position: Int, events: [Int])] = []
        let now = clock.nowMilliseconds
        for (position, item) in stored.enumerated() {
            let refused = item.events.compactMap { index in failed[index].map { "event \(incoming[index].eventID.prefix(200)): \($0)" } }
            if !refused.isEmpty {
                // Its other events are applied (and remembered as seen), so a retry applies only what failed.
                refusals.append(Refusal(message: item.message, envelope: item.envelope, reasons: refused))
                continue
            }
            if item.events.contains(where: deferred.contains) {
                // Left untried once the round's isolation budget was spent: neither refused nor applied.
                retried.append((item.message, retry.firstDelayMs))
                continue
            }
            let unmatched = item.events.filter { unknown.contains($0) }
            if unmatched.isEmpty { orphanAcks.append(position) } else { missing.append((position, unmatched)) }
        }
        // A webhook waits for its message `orphanAfterMs` from the first round that looked and did not find it,
        // not from its arrival: after a backlog or a PostgreSQL outage longer than that, its message may be
        // written by now, and the round that finds it applies it.
        let since = try await firstMisses(missing.map { stored[$0.position] }, nowMs: now)
        for ((position, unmatched), firstMissMs) in zip(missing, since) {
            if now - firstMissMs >= settings.orphanAfterMs {
                orphans += unmatched.map { incoming[$0] }
                orphanOwners += unmatched.map { _ in position }
                orphanAcks.append(position)
            } else {
                retried.append((stored[position].message, settings.orphanRetryMs))
            }
        }

        let counts = try await refusalCounts(refusals.map(\.message))
        for (refusal, count) in zip(refusals, counts) {
            let metadata: Logger.Metadata = ["provider": "\(refusal.envelope.provider)", "refusals": "\(count)", "error": "\(refusal.reasons[0])"]
            switch retry.decision(refusals: count) {
            case .retry(let delayMs):
                logger.warning("a stored webhook cannot be applied; tried again later", metadata: metadata)
                retried.append((refusal.message, delayMs))
            case .deadLetter:
                logger.error("a stored webhook cannot be applied after every attempt; dead-lettered", metadata: metadata)
                dead.append(WebhookDeadLetter(envelope: refusal.envelope, bytes: refusal.message.data, deliveries: refusal.message.deliveries,
                                              reasons: refusal.reasons))
                acked.append(refusal.message)
            }
        }

        // An orphan PostgreSQL refuses to keep leaves its webhook (acknowledged all the same) with the dead letters;
        // one left untried past the isolation budget leaves it for a later round.
        let (unkept, untried) = try await ledger.keepOrphans(orphans)
        let waiting = Set(untried.map { orphanOwners[$0] })
        for position in orphanAcks {
            if waiting.contains(position) { retried.append((stored[position].message, retry.firstDelayMs)) } else { acked.append(stored[position].message) }
        }
        for (position, indices) in Dictionary(grouping: unkept.keys, by: { orphanOwners[$0] }) where !waiting.contains(position) {
            let item = stored[position]
            let reasons = indices.sorted().map { "orphan \(orphans[$0].eventID.prefix(200)) not kept: \(unkept[$0] ?? "")" }
            dead.append(WebhookDeadLetter(envelope: item.envelope, bytes: item.message.data, deliveries: item.message.deliveries, reasons: reasons))
        }
        // Kept before their acks: a dead letter lost between the two would be a webhook lost.
        try await deadLetters.keep(dead)
        for letter in dead {
            Counter(label: "webhook_dead_letters_total", dimensions: [("provider", letter.provider.isEmpty ? "unknown" : letter.provider)]).increment()
        }
        try await bus.blocking { [acked, retried] in
            for message in acked { try message.ack() }
            for (message, delayMs) in retried { try message.nak(delayMs: delayMs) }
        }
        let applied = fresh.filter { !unknown.contains($0) && failed[$0] == nil && !deferred.contains($0) }.map { digests[$0] }
        try await memory.rememberApplied(applied, ttlSeconds: settings.dedupeTTLHours * 3_600)
        if outcome.moved > 0 || !orphans.isEmpty || !dead.isEmpty || !failed.isEmpty || !deferred.isEmpty || !refusals.isEmpty {
            logger.debug("webhooks applied", metadata: ["events": "\(fresh.count)", "moved": "\(outcome.moved)",
                                                         "suppressions": "\(outcome.suppressed)", "orphans": "\(orphans.count)",
                                                         "refused": "\(refusals.count)", "untried": "\(deferred.count)",
                                                         "deadLettered": "\(dead.count)"])
        }
    }

    /// When each stored webhook was first found waiting for its message, kept in Redis by its stream sequence
    /// for an hour past the orphan window (a webhook not looked at for longer starts a new one). Now, for a time
    /// Redis did not answer (it waits another round); its arrival for a message without metadata.
    func firstMisses(_ items: [Stored], nowMs: Int64) async throws -> [Int64] {
        let counted = items.filter { $0.message.streamSequence > 0 }
        let ttlSeconds = Int(settings.orphanAfterMs / 1_000) + 3_600
        let replies = try await memory.firstMisses(counted.map(\.message.streamSequence), nowMs: nowMs, ttlSeconds: ttlSeconds)
        var times: [UInt64: Int64] = [:]
        for (item, time) in zip(counted, replies) { times[item.message.streamSequence] = time ?? nowMs }
        return items.map { times[$0.message.streamSequence] ?? $0.envelope.receivedAtMs }
    }

    /// How many times each stored webhook has now been refused, this time included. Kept in Redis by its
    /// stream sequence (a number: the key is bounded), so that deliveries spent waiting for a message or
    /// for the servers do not count; a message without metadata falls back to its deliveries.
    func refusalCounts(_ messages: [ReceivedMessage]) async throws -> [UInt64] {
        let counted = messages.filter { $0.streamSequence > 0 }
        let replies = try await memory.countRefusals(counted.map(\.streamSequence), ttlSeconds: retry.memorySeconds)
        var counts: [UInt64: UInt64] = [:]
        for (message, count) in zip(counted, replies) { if let count { counts[message.streamSequence] = count } }
        return messages.map { counts[$0.streamSequence] ?? $0.deliveries }
    }
}
