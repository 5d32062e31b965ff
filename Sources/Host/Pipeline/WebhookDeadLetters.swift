import HostCore
import ProviderCrypto
import ProviderModel
import Storage

/// Where webhook dead letters are kept: a PostgreSQL table rather than a stream beside the batch
/// dead letters, so that `batchsender webhooks` lists them next to the orphans and an operator can
/// query them. Kept 30 days, like the batch dead letters; a webhook kept twice (its ack lost) is one row.
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
            let reasons = letter.reasons.prefix(Self.maxReasons).map { Optional(String($0.replacingNUL.prefix(Self.maxReasonCharacters))) }
            // Every value within what its column takes: a letter PostgreSQL refused would hold its round back forever.
            let receivedAt = letter.receivedAtMs.flatMap { Self.storable.contains($0) ? ISO8601.extendedUTC(milliseconds: $0) : nil }
            return [letter.provider.replacingNUL, letter.sendConfigID?.replacingNUL, receivedAt, String(min(letter.deliveries, UInt64(Int32.max))),
                    PostgresArray.literal(Array(reasons)), Encoding.hex(letter.envelope)]
        }
        try await database.withConnection { db in
            try db.transaction { () throws(PostgresError) in
                _ = try db.query("DELETE FROM webhook_dead_letters WHERE dead_at < now() - interval '30 days'")
                for row in rows {
                    _ = try db.query("""
                        INSERT INTO webhook_dead_letters (provider, send_config_id, received_at, deliveries, reasons, envelope)
                        VALUES ($1, $2, $3::timestamptz, $4::integer, $5::text[], decode($6, 'hex'))
                        ON CONFLICT DO NOTHING
                        """, row)
                }
            }
        }
    }

    /// The oldest dead letters (of one send-config when `sendConfigID` is given), whole: for applying them
    /// again (`batchsender webhooks redrive`).
    public func oldest(limit: Int, sendConfigID: String? = nil) async throws -> [(id: Int64, letter: WebhookDeadLetter)] {
        try await database.withConnection { db in
            try db.query("""
                SELECT id, provider, send_config_id, deliveries, encode(envelope, 'hex') FROM webhook_dead_letters
                WHERE $2::text IS NULL OR send_config_id = $2 ORDER BY id LIMIT $1
                """, [String(limit), sendConfigID])
        }.compactMap { row in
            guard let id = row[0].flatMap({ Int64($0) }), let bytes = row[4].flatMap({ Encoding.unhex($0) }) else { return nil }
            let deliveries = row[3].flatMap { UInt64($0) } ?? 0
            if let envelope = WebhookEnvelope.decode(bytes) {
                return (id, WebhookDeadLetter(envelope: envelope, bytes: bytes, deliveries: deliveries, reasons: []))
            }
            return (id, WebhookDeadLetter(unreadable: bytes, deliveries: deliveries, reason: ""))
        }
    }

    public func remove(id: Int64) async throws {
        _ = try await database.withConnection { db in try db.query("DELETE FROM webhook_dead_letters WHERE id = $1", [String(id)]) }
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

extension String {
    /// PostgreSQL text cannot hold NUL.
    fileprivate var replacingNUL: String { utf8.contains(0) ? String(unicodeScalars.filter { $0 != "\0" }.map(Character.init)) : self }
}
