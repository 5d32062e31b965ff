import Domain
import HostCore
import ProviderCrypto
import ProviderModel

/// What webhooks change in PostgreSQL: events found by the provider's message
/// id, kept once each, recipients moved forward, batch counters, suppressions.
/// One transaction per round of events, a handful of bulk statements; applying
/// a round again changes nothing (an event already kept moves nobody), so a
/// redelivered round is harmless. An event PostgreSQL refuses is set aside
/// (`FaultIsolation`, each try under a savepoint) and the rest of the round commits.
public struct WebhookLedger: Sendable {
    let database: ConnectionPool<PostgresConnection>

    public init(database: ConnectionPool<PostgresConnection>) {
        self.database = database
    }

    /// One parsed event and how it arrived.
    public struct Incoming: Sendable {
        public var provider: String
        /// The BYOK send-config whose URL took it; nil for the managed route.
        public var sendConfigID: String?
        public var event: DeliveryEvent
        public var receivedAtMs: Int64

        public init(provider: String, sendConfigID: String?, event: DeliveryEvent, receivedAtMs: Int64) {
            self.provider = provider
            self.sendConfigID = sendConfigID
            self.event = event
            self.receivedAtMs = receivedAtMs
        }

        /// The provider's event id, or one made from what identifies the event when it gave none.
        public var eventID: String {
            event.eventId.isEmpty ? "\(event.type.rawValue):\(event.providerMessageId):\(event.recipient):\(event.timestampMs ?? receivedAtMs)" : event.eventId
        }

        /// What identifies this event among those applied before, in 64 hex digits whatever the provider sent:
        /// the fields are the tenant's to choose (a signed event may carry 250 KB ids), and the dedupe keys live
        /// 30 hours in the Redis the rate limiters share. Each field is length-prefixed, so no two events
        /// share a digest by moving a separator between fields. The config's scope is one of the fields: an
        /// event one tenant applied must not count as seen for another that sent the same ids.
        /// Hashed a field at a time, nothing joined: the processor takes one per event.
        public var seenDigest: String {
            var hasher = SHA256Hasher()
            for var field in [WebhookLedger.scope(self), provider, eventID, event.providerMessageId, event.recipient] {
                var length = "\(field.utf8.count):"
                length.withUTF8 { hasher.update(UnsafeRawBufferPointer($0)) }
                field.withUTF8 { hasher.update(UnsafeRawBufferPointer($0)) }
            }
            return Encoding.hex(hasher.finish())
        }
    }

    public struct Outcome: Sendable, Equatable {
        /// Indices of events whose message this platform does not know (yet).
        public var unknown: [Int] = []
        /// Events kept for the first time, recipients moved, addresses newly suppressed.
        public var recorded = 0
        public var moved = 0
        public var suppressed = 0
        /// The new events, for the analytics store.
        public var events: [AnalyticsEvent] = []
        /// Indices of events PostgreSQL refused on their own, with its error; nothing of them was applied.
        public var failed: [Int: String] = [:]
        /// Indices of events neither applied nor refused: suspect when the round's isolation budget ran out,
        /// for a later round (`FaultIsolation`).
        public var deferred: [Int] = []

        /// Adds what a slice of the round starting at `offset` did.
        mutating func add(_ part: Outcome, offset: Int) {
            unknown += part.unknown.map { $0 + offset }
            recorded += part.recorded
            moved += part.moved
            suppressed += part.suppressed
            events += part.events
        }
    }

    /// Applies the events in one transaction. Each tenant's events (those of one send-config, or of one
    /// provider's managed route) are adjacent, so that when the round fails the search for the culprits
    /// tries every other tenant's events once, whole. The servers failing throws; an event failing does not.
    public func apply(_ events: [Incoming]) async throws -> Outcome {
        guard !events.isEmpty else { return Outcome() }
        let order = events.indices.sorted { (Self.scope(events[$0]), $0) < (Self.scope(events[$1]), $1) }
        let sorted = order.map { events[$0] }
        var groups: [Range<Int>] = []
        for index in sorted.indices where index == 0 || Self.scope(sorted[index]) != Self.scope(sorted[index - 1]) {
            if let last = groups.popLast() { groups.append(last.lowerBound..<index) }
            groups.append(index..<sorted.count)
        }
        let applied = try await database.withConnection { [groups] db in
            try db.transaction { () throws(PostgresError) -> Outcome in
                var outcome = Outcome()
                let isolated = try FaultIsolation.run(groups: groups, attempt: { (range: Range<Int>) throws(PostgresError) in
                    let part = try Self.savepoint(db) { () throws(PostgresError) in try Self.apply(db, Array(sorted[range])) }
                    outcome.add(part, offset: range.lowerBound)
                }, isFatal: \.isTheServers)
                outcome.failed = isolated.failures.mapValues(\.message)
                outcome.deferred = isolated.deferred
                return outcome
            }
        }
        // Back to the caller's indices.
        var outcome = applied
        outcome.unknown = applied.unknown.map { order[$0] }.sorted()
        outcome.failed = Dictionary(uniqueKeysWithValues: applied.failed.map { (order[$0.key], $0.value) })
        outcome.deferred = applied.deferred.map { order[$0] }.sorted()
        return outcome
    }

    /// Whose events these are: a send-config's, or a provider's managed route's.
    static func scope(_ event: Incoming) -> String { event.sendConfigID ?? "managed:\(event.provider)" }

    /// `body` under a savepoint of the open transaction: when it throws, what it did is undone and the transaction goes on.
    /// Released either way: `ROLLBACK TO` keeps the savepoint, so each further try would nest one subtransaction deeper,
    /// and past 64 open ones PostgreSQL's subtransaction cache overflows, slowing every snapshot of the database.
    static func savepoint<T>(_ db: PostgresConnection, _ body: () throws(PostgresError) -> T) throws(PostgresError) -> T {
        try db.execute("SAVEPOINT webhook_events")
        do {
            let value = try body()
            try db.execute("RELEASE SAVEPOINT webhook_events")
            return value
        } catch {
            if !error.isTheServers { try db.execute("ROLLBACK TO SAVEPOINT webhook_events; RELEASE SAVEPOINT webhook_events") }
            throw error
        }
    }

    static func apply(_ db: PostgresConnection, _ events: [Incoming]) throws(PostgresError) -> Outcome {
        var outcome = Outcome()
        // 1. Each event's recipient, only within the send-config the webhook came through (a tenant's
        //    secret speaks for its own messages only), or within managed configs for the managed route.
        let matched = try Recipients.matching(db, messageIDs: events.map { clean($0.event.providerMessageId) }, providers: events.map(\.provider),
                                              scopes: events.map(\.sendConfigID))
        var found: [Int: [Recipients.Matched]] = [:]
        for recipient in matched { found[recipient.index, default: []].append(recipient) }
        outcome.unknown = events.indices.filter { found[$0] == nil && !events[$0].event.providerMessageId.isEmpty }

        // 2. Keep each event once per recipient; only the new ones act.
        var keep: [(index: Int, found: Recipients.Matched)] = []
        for index in events.indices { for target in found[index] ?? [] { keep.append((index, target)) } }
        guard !keep.isEmpty else { return outcome }
        let built = keep.map { index, found in
            let incoming = events[index], event = incoming.event
            return RecipientEvents.Row(batchID: found.batchID, position: found.position, provider: clean(incoming.provider),
                                       eventID: clean(incoming.eventID), type: clean(event.type.rawValue), bounceClass: event.bounceClass.map { clean($0.rawValue) },
                                       occurredAt: ISO8601.extendedUTC(milliseconds: event.timestampMs ?? incoming.receivedAtMs),
                                       receivedAt: ISO8601.extendedUTC(milliseconds: incoming.receivedAtMs),
                                       reason: event.reason.isEmpty ? nil : clean(event.reason), code: event.code.isEmpty ? nil : clean(event.code),
                                       url: event.url.isEmpty ? nil : clean(event.url))
        }
        // In key order, compared on the rows as built: two lanes keeping the same events (a redelivery, a webhook
        // stored twice) wait on each other's rows in one order, never in a cycle.
        let order = built.indices.sorted { a, b in
            (built[a].batchID, built[a].position, built[a].provider, built[a].eventID)
                < (built[b].batchID, built[b].position, built[b].provider, built[b].eventID)
        }
        keep = order.map { keep[$0] }
        let rows = order.map { built[$0] }
        let fresh = try RecipientEvents.keep(db, rows)
        outcome.recorded = fresh.count
        let new = zip(keep, rows).filter { fresh.contains($0.1.identity) }.map(\.0)
        outcome.events = new.compactMap { index, found in
            let incoming = events[index]
            return AnalyticsEventType.webhook(incoming.event.type).map {
                AnalyticsEvent(timeMs: incoming.event.timestampMs ?? incoming.receivedAtMs, userID: found.userID, batchID: found.batchID,
                               recipient: found.position, sendConfigID: found.sendConfigID, provider: incoming.provider, type: $0,
                               bounceClass: incoming.event.bounceClass?.rawValue ?? "", reason: incoming.event.reason,
                               providerMessageID: incoming.event.providerMessageId, eventID: incoming.eventID)
            }
        }

        // 3. Each recipient moves once, to the furthest status its new events reach.
        var target: [String: (found: Recipients.Matched, status: RecipientStatus)] = [:]
        for (index, found) in new {
            guard let status = RecipientStatus.after(events[index].event.type) else { continue }
            let key = "\(found.batchID)|\(found.position)"
            if let current = target[key], current.status.webhookRank >= status.webhookRank { continue }
            target[key] = (found, status)
        }
        if !target.isEmpty {
            let moves = target.values.sorted { ($0.found.batchID, $0.found.position) < ($1.found.batchID, $1.found.position) }
            outcome.moved = try Recipients.moveForward(db, moves.map { ($0.found.batchID, $0.found.position, $0.status) })
        }

        // 4. A hard bounce, a complaint or an unsubscribe keeps the owner from sending to the address again.
        var suppress: [(userID: String, address: String, reason: String, source: String)] = []
        for (index, found) in new {
            let event = events[index].event
            let source: String
            switch event.type {
            case .bounced where event.bounceClass != .soft: source = "bounce"
            case .complained: source = "complaint"
            case .unsubscribed: source = "unsubscribe"
            default: continue
            }
            let reason = event.reason.isEmpty ? "\(events[index].provider) reported a \(source)" : event.reason
            suppress.append((found.userID, found.address, String(reason.prefix(500)), source))
        }
        if !suppress.isEmpty {
            outcome.suppressed = try Suppressions.insertMany(db, suppress.map { ($0.userID, $0.address, clean($0.reason), $0.source) })
        }
        return outcome
    }

    /// Keeps events whose message stayed unknown past the orphan age, for an operator to look at; returns the
    /// indices of those PostgreSQL refused (with its error) and of those left for a later round (the isolation
    /// budget spent), the others kept all the same.
    public func keepOrphans(_ events: [Incoming]) async throws -> (refused: [Int: String], deferred: [Int]) {
        guard !events.isEmpty else { return ([:], []) }
        return try await database.withConnection { db in
            try db.transaction { () throws(PostgresError) -> (refused: [Int: String], deferred: [Int]) in
                let isolated = try FaultIsolation.run(groups: [events.indices], attempt: { (range: Range<Int>) throws(PostgresError) in
                    try Self.savepoint(db) { () throws(PostgresError) in try Self.keepOrphans(db, Array(events[range])) }
                }, isFatal: \.isTheServers)
                return (isolated.failures.mapValues(\.message), isolated.deferred)
            }
        }
    }

    static func keepOrphans(_ db: PostgresConnection, _ events: [Incoming]) throws(PostgresError) {
        func column(_ value: (Incoming) -> String?) -> String { PostgresArray.literal(events.map { value($0).map(clean) }) }
        let parameters = [column(\.provider), column(\.eventID), column(\.sendConfigID), column(\.event.providerMessageId),
                          column(\.event.type.rawValue), column(\.event.recipient),
                          column { $0.event.timestampMs.map { ISO8601.extendedUTC(milliseconds: $0) } },
                          column { ISO8601.extendedUTC(milliseconds: $0.receivedAtMs) }]
        _ = try db.query("""
            INSERT INTO webhook_orphans (provider, event_id, send_config_id, provider_message_id, type, recipient, occurred_at, received_at)
            SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[])
            ON CONFLICT DO NOTHING
            """, parameters)
    }

    /// The newest orphans, as JSON lines.
    public func orphans(limit: Int) async throws -> [String] {
        try await database.withConnection { db in
            try db.query("""
                SELECT jsonb_build_object('provider', provider, 'eventId', event_id, 'sendConfigId', send_config_id,
                                          'providerMessageId', provider_message_id, 'type', type, 'recipient', recipient,
                                          'occurredAt', occurred_at, 'receivedAt', received_at, 'keptAt', kept_at)::text
                FROM webhook_orphans ORDER BY kept_at DESC, provider, event_id LIMIT $1
                """, [String(limit)])
        }.compactMap { $0[0] }
    }
}

/// PostgreSQL text cannot hold NUL: a provider's string keeps everything else.
func clean(_ text: String) -> String {
    text.utf8.contains(0) ? String(text.unicodeScalars.filter { $0 != "\0" }.map(Character.init)) : text
}

extension PostgresError {
    /// The server gone, a deadlock, a cancelled or throttled statement: no event's fault, so the whole
    /// round waits and goes again rather than any event being set aside for it.
    var isTheServers: Bool {
        switch kind {
        case .connection: true
        // 08 connection, 40 rollback (deadlock, serialization), 53 resources, 55 object state (a lock
        // not available), 57 operator intervention (shutdown, statement timeout), 58 the server's system.
        case .statement(let state): ["08", "40", "53", "55", "57", "58"].contains(String(state.prefix(2)))
        }
    }
}
