import Domain
import HostCore
import ProviderCrypto
import ProviderModel

/// Where webhook dead letters are kept: a PostgreSQL table rather than a stream beside the batch
/// dead letters, so that `batchsender webhooks` lists them next to the orphans and an operator can
/// query them. Kept 30 days, like the batch dead letters (`prune`, run by the background role); a webhook
/// kept twice (its ack lost, or dead-lettered again after a redrive) is one row, its newest reasons and time.
public struct WebhookDeadLetters: Sendable {
    let database: ConnectionPool<PostgresConnection>
    /// Bounds on what one letter holds, whatever a provider sent.
    static let maxReasons = 20, maxReasonCharacters = 1_000
    /// Years 1 to 9999 in Unix milliseconds: times PostgreSQL and ISO 8601's four digits both hold.
    static let storable: ClosedRange<Int64> = -62_135_596_800_000...253_402_300_799_999

    public init(database: ConnectionPool<PostgresConnection>) {
        self.database = database
    }

    public func keep(_ letters: [WebhookDeadLetter]) async throws {
        guard !letters.isEmpty else { return }
        let rows = letters.map { letter -> [String?] in
            let reasons = letter.reasons.prefix(Self.maxReasons).map { Optional(String(clean($0).prefix(Self.maxReasonCharacters))) }
            // Every value within what its column takes: a letter PostgreSQL refused would hold its round back forever.
            let receivedAt = letter.receivedAtMs.flatMap { Self.storable.contains($0) ? ISO8601.extendedUTC(milliseconds: $0) : nil }
            return [clean(letter.provider), letter.sendConfigID.map(clean), receivedAt, String(min(letter.deliveries, UInt64(Int32.max))),
                    PostgresArray.literal(Array(reasons)), Encoding.hex(letter.envelope)]
        }
        try await database.withConnection { db in
            try db.transaction { () throws(PostgresError) in
                for row in rows {
                    // Dead again (a redrive refused once more): the row is the newest failure, and its new `dead_at`
                    // tells the redrive under way not to remove it.
                    _ = try db.query("""
                        INSERT INTO webhook_dead_letters (provider, send_config_id, received_at, deliveries, reasons, envelope)
                        VALUES ($1, $2, $3::timestamptz, $4::integer, $5::text[], decode($6, 'hex'))
                        ON CONFLICT (digest) DO UPDATE SET dead_at = clock_timestamp(), deliveries = EXCLUDED.deliveries,
                                                           reasons = EXCLUDED.reasons
                        """, row)
                }
            }
        }
    }

    /// Drops the letters dead for more than 30 days (the background role, not the processing rounds).
    @discardableResult
    public func prune() async throws -> Int {
        try await database.withConnection { db in
            try db.query("DELETE FROM webhook_dead_letters WHERE dead_at < now() - interval '30 days' RETURNING 1").count
        }
    }

    /// One stored letter and the time it died, which a later death of the same webhook changes.
    public struct Stored: Sendable {
        public var id: Int64
        public var deadAt: String
        public var letter: WebhookDeadLetter
    }

    /// Hands the oldest dead letters (of one send-config when `sendConfigID` is given) to `publish`, oldest first,
    /// and removes each once published, unless it died again meanwhile (its first redelivery refused before the
    /// removal): that row is the webhook's only copy now. Returns how many were published.
    public func redrive(limit: Int, sendConfigID: String? = nil, publish: (Stored) async throws -> Void) async throws -> Int {
        let letters = try await oldest(limit: limit, sendConfigID: sendConfigID)
        for stored in letters {
            try await publish(stored)
            try await remove(stored)
        }
        return letters.count
    }

    /// The oldest dead letters (of one send-config when `sendConfigID` is given), whole.
    public func oldest(limit: Int, sendConfigID: String? = nil) async throws -> [Stored] {
        try await database.withConnection { db in
            try db.query("""
                SELECT id, provider, send_config_id, deliveries, encode(envelope, 'hex'), dead_at FROM webhook_dead_letters
                WHERE $2::text IS NULL OR send_config_id = $2 ORDER BY id LIMIT $1
                """, [String(limit), sendConfigID])
        }.compactMap { row in
            guard let id = row[0].flatMap({ Int64($0) }), let bytes = row[4].flatMap({ Encoding.unhex($0) }), let deadAt = row[5] else { return nil }
            let deliveries = row[3].flatMap { UInt64($0) } ?? 0
            if let envelope = WebhookEnvelope.decode(bytes) {
                return Stored(id: id, deadAt: deadAt, letter: WebhookDeadLetter(envelope: envelope, bytes: bytes, deliveries: deliveries, reasons: []))
            }
            return Stored(id: id, deadAt: deadAt, letter: WebhookDeadLetter(unreadable: bytes, deliveries: deliveries, reason: ""))
        }
    }

    /// Removes `stored` if it has not died again since it was read.
    public func remove(_ stored: Stored) async throws {
        _ = try await database.withConnection { db in
            try db.query("DELETE FROM webhook_dead_letters WHERE id = $1 AND dead_at = $2::timestamptz", [String(stored.id), stored.deadAt])
        }
    }

    /// The newest dead letters, as JSON lines (the envelope by its size only).
    public func list(limit: Int) async throws -> [String] {
        try await database.withConnection { db in
            try db.query("""
                SELECT jsonb_build_object('id', id, 'provider', provider, 'sendConfigId', send_config_id, 'receivedAt', received_at,
                                          'deadAt', dead_at, 'deliveries', deliveries, 'reasons', to_jsonb(reasons),
                                          'bytes', octet_length(envelope))::text
                FROM webhook_dead_letters ORDER BY dead_at DESC, id DESC LIMIT $1
                """, [String(limit)])
        }.compactMap { $0[0] }
    }
}
