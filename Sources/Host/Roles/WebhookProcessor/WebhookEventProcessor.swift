import Analytics
import Domain
import HostCore
import Logging
import Messaging
import Metrics
import Persistence
import Pipeline
import ProviderInstances
import ProviderModel
import ServiceLifecycle

/// The webhook processor: takes stored webhooks in rounds, parses them through
/// their plugin, skips events already applied (Redis remembers their ids for
/// longer than any provider retries), applies the rest in one PostgreSQL
/// transaction, and settles each stored webhook: acknowledged once applied,
/// tried again later while its message is not known yet (a webhook can
/// overtake the sender's write of the message id), kept as an orphan after
/// `orphanAfterMs`. Applying is idempotent, so a redelivered round is harmless.
/// An event PostgreSQL refuses is set aside while the rest of the round commits;
/// its webhook is tried again with a growing wait (`WebhookRetryPolicy`, counting
/// refusals), then dead-lettered; so is one whose config or plugin is missing
/// (a rolling deploy may bring it back). One its plugin cannot parse is
/// dead-lettered at once: nothing goes round forever.
public struct WebhookEventProcessor: Service {
    let resources: PipelineResources
    let settings: WebhookIngestSettings
    let instances: WebhookInstances
    let ledger: WebhookLedger
    let deadLetters: WebhookDeadLetters
    let retry = WebhookRetryPolicy()
    let logger: Logger

    public init(resources: PipelineResources, settings: WebhookIngestSettings, instances: WebhookInstances) {
        self.resources = resources
        logger = resources.logger.role("webhook-processor")
        self.settings = settings
        self.instances = instances
        ledger = WebhookLedger(database: resources.database)
        deadLetters = WebhookDeadLetters(database: resources.database)
    }

    /// `processorLanes` lanes, each fetching and applying rounds of its own: while one lane waits on
    /// PostgreSQL, another reads or parses. Their transactions lock recipients in one order
    /// (batch, position), so they do not deadlock on rows.
    public func run() async throws {
        // At 0 from the start, so that dashboards and alerts read a series before the first event.
        for provider in resources.plugins.ids {
            _ = Counter(label: "webhook_events_applied_total", dimensions: [("provider", provider)])
            _ = Counter(label: "plugin_call_errors_total", dimensions: [("provider", provider), ("call", "parse")])
            _ = Counter(label: "webhook_dead_letters_total", dimensions: [("provider", provider)])
        }
        await withDiscardingTaskGroup { group in
            for _ in 0..<settings.processorLanes { group.addTask { await lane() } }
        }
    }

    func lane() async {
        var consumer: PullConsumer?
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            var messages: [ReceivedMessage] = []
            do {
                if consumer == nil { consumer = try await resources.nats { try $0.pullConsumer(Streams.webhookConsumer) } }
                let batch = settings.fetchBatch
                messages = try await resources.nats { [consumer] _ in try consumer!.fetch(batch: batch, timeoutMs: 500) }
                if !messages.isEmpty { try await handle(messages) }
            } catch {
                logger.warning("webhook processor waits for its servers", metadata: ["error": "\(error)"])
                // Handed back at once rather than after the ack wait; applying them again later changes nothing twice.
                try? await resources.nats { [messages] _ in for message in messages { try? message.nak(delayMs: 1_000) } }
                await SystemClock().sleep(milliseconds: 1_000)
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
        let keys = incoming.map { seenKey($0) }
        let seen = keys.isEmpty ? [] : try await resources.redis.withConnection { redis in
            try redis.command(["MGET"] + keys).array.map { $0 != .null }
        }
        let fresh = incoming.indices.filter { !(seen.indices.contains($0) && seen[$0]) }
        let outcome = try await ledger.apply(fresh.map { incoming[$0] })
        resources.events.record(outcome.events)
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
        let now = SystemClock.nowMilliseconds
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
            let missing = item.events.filter { unknown.contains($0) }
            if missing.isEmpty || now - item.envelope.receivedAtMs >= settings.orphanAfterMs {
                orphans += missing.map { incoming[$0] }
                orphanOwners += missing.map { _ in position }
                orphanAcks.append(position)
            } else {
                retried.append((item.message, settings.orphanRetryMs))
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
        try await resources.nats { [acked, retried] _ in
            for message in acked { try message.ack() }
            for (message, delayMs) in retried { try message.nak(delayMs: delayMs) }
        }
        let applied = fresh.filter { !unknown.contains($0) && failed[$0] == nil && !deferred.contains($0) }.map { keys[$0] }
        if !applied.isEmpty {
            let ttl = String(settings.dedupeTTLHours * 3_600)
            _ = try await resources.redis.withConnection { redis in try redis.pipeline(applied.map { ["SET", $0, "1", "EX", ttl] }) }
        }
        if outcome.moved > 0 || !orphans.isEmpty || !dead.isEmpty || !failed.isEmpty || !deferred.isEmpty || !refusals.isEmpty {
            logger.debug("webhooks applied", metadata: ["events": "\(fresh.count)", "moved": "\(outcome.moved)",
                                                         "suppressed": "\(outcome.suppressed)", "orphans": "\(orphans.count)",
                                                         "refused": "\(refusals.count)", "deferred": "\(deferred.count)",
                                                         "deadLettered": "\(dead.count)"])
        }
    }

    /// How many times each stored webhook has now been refused, this time included. Kept in Redis by its
    /// stream sequence (a number: the key is bounded), so that deliveries spent waiting for a message or
    /// for the servers do not count; a message without metadata falls back to its deliveries.
    func refusalCounts(_ messages: [ReceivedMessage]) async throws -> [UInt64] {
        let counted = messages.filter { $0.streamSequence > 0 }
        let ttl = String(retry.memorySeconds)
        let replies = counted.isEmpty ? [] : try await resources.redis.withConnection { redis in
            try redis.pipeline(counted.flatMap { [["INCR", refusalKey($0)], ["EXPIRE", refusalKey($0), ttl]] })
        }
        var counts: [UInt64: UInt64] = [:]
        for (index, message) in counted.enumerated() {
            if replies.indices.contains(2 * index), let count = replies[2 * index].integer, count > 0 { counts[message.streamSequence] = UInt64(count) }
        }
        return messages.map { counts[$0.streamSequence] ?? $0.deliveries }
    }

    func refusalKey(_ message: ReceivedMessage) -> String {
        "\(resources.hot.prefix)wh:refused:\(message.streamSequence)"
    }

    /// Bounded whatever the event holds (see `seenDigest`). Keys of the earlier verbatim form simply expire.
    func seenKey(_ event: WebhookLedger.Incoming) -> String {
        "\(resources.hot.prefix)wh:\(event.seenDigest)"
    }
}
