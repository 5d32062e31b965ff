/// The `recipient_events` table as users read it: one recipient's provider events.
public enum RecipientEvents {
    /// The recipient's events as JSON, in the provider's time order (at most 1000).
    public static func history(_ db: PostgresConnection, batchID: String, position: Int64) throws(PostgresError) -> [String] {
        try db.query("""
            SELECT jsonb_build_object('type', type, 'at', occurred_at, 'source', 'provider', 'provider', provider, 'eventId', event_id,
                                      'bounceClass', bounce_class, 'reason', reason, 'code', code, 'url', url,
                                      'receivedAt', received_at)::text
            FROM recipient_events WHERE batch_id = $1 AND position = $2
            ORDER BY occurred_at, received_at, event_id LIMIT 1000
            """, [batchID, String(position)]).compactMap { $0[0] }
    }

    /// One provider event of one recipient, as stored.
    public struct Row: Sendable {
        public var batchID: String
        public var position: Int
        public var provider: String
        public var eventID: String
        public var type: String
        public var bounceClass: String?
        /// ISO 8601.
        public var occurredAt: String
        public var receivedAt: String
        public var reason: String?
        public var code: String?
        public var url: String?

        public init(batchID: String, position: Int, provider: String, eventID: String, type: String, bounceClass: String?,
                    occurredAt: String, receivedAt: String, reason: String?, code: String?, url: String?) {
            self.batchID = batchID
            self.position = position
            self.provider = provider
            self.eventID = eventID
            self.type = type
            self.bounceClass = bounceClass
            self.occurredAt = occurredAt
            self.receivedAt = receivedAt
            self.reason = reason
            self.code = code
            self.url = url
        }

        /// What names the event once per recipient: an event kept before is not kept again.
        public var identity: String { "\(batchID)|\(position)|\(provider)|\(eventID)" }
    }

    /// Keeps each event once per recipient; the identities of those kept now (not before).
    public static func keep(_ db: PostgresConnection, _ rows: [Row]) throws(PostgresError) -> Set<String> {
        func column(_ value: (Row) -> String?) -> String { PostgresArray.literal(rows.map(value)) }
        let inserted = try db.query("""
            INSERT INTO recipient_events (batch_id, position, provider, event_id, type, bounce_class, occurred_at, received_at, reason, code, url)
            SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[],
                                 $8::timestamptz[], $9::text[], $10::text[], $11::text[])
            ON CONFLICT DO NOTHING
            RETURNING batch_id, position, provider, event_id
            """, [column(\.batchID), PostgresArray.literal(rows.map(\.position)), column(\.provider), column(\.eventID), column(\.type),
                  column(\.bounceClass), column(\.occurredAt), column(\.receivedAt), column(\.reason), column(\.code), column(\.url)])
        return Set(inserted.map { "\($0[0] ?? "")|\($0[1] ?? "")|\($0[2] ?? "")|\($0[3] ?? "")" })
    }
}
