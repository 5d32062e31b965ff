import Domain
import ProviderModel

/// The `batch_events` table, with `batches.routed_via`: a batch's history of the send-configs its messages went
/// through. One row per switch, however many senders saw it.
public enum BatchEvents {
    public struct Event: Sendable, Equatable {
        public var id: Int64
        public var type: String
        public var occurredAt: String
        public var from: String
        public var to: String
        public var detail: String

        public var json: JSONValue {
            .object(["id": .number(Double(id)), "type": .string(type), "occurredAt": .string(occurredAt), "fromSendConfigId": .string(from),
                     "toSendConfigId": .string(to), "detail": .string(detail)])
        }
    }

    /// Records that the batch's messages go through `via` now (nil: its own config). Only a change is recorded: the
    /// row is locked, so of two senders that see the same switch one writes the event. Whether one was written.
    public static func route(_ db: PostgresConnection, batchID: String, via: String?, detail: String) throws(PostgresError) -> Bool {
        let type = via == nil ? BatchEventType.failback : .failover
        return try !db.query("""
            WITH old AS (SELECT id, send_config_id, routed_via FROM batches WHERE id = $1 FOR UPDATE),
            moved AS (UPDATE batches b SET routed_via = $2::uuid FROM old
                      WHERE b.id = old.id AND old.routed_via IS DISTINCT FROM $2::uuid
                      RETURNING old.send_config_id AS own, old.routed_via AS was)
            INSERT INTO batch_events (batch_id, type, from_send_config, to_send_config, detail)
            SELECT $1, $3, coalesce(was, own), coalesce($2::uuid, own), $4 FROM moved
            RETURNING id
            """, [batchID, via, type.rawValue, detail]).isEmpty
    }

    /// The batch's history, oldest first, at most `limit` events.
    public static func list(_ db: PostgresConnection, batchID: String, limit: Int = 500) throws(PostgresError) -> [Event] {
        try db.query("""
            SELECT id, type, to_jsonb(occurred_at) #>> '{}', coalesce(from_send_config::text, ''), coalesce(to_send_config::text, ''), detail
            FROM batch_events WHERE batch_id = $1 ORDER BY id LIMIT $2::integer
            """, [batchID, String(limit)]).map { row in
            Event(id: row[0].flatMap { Int64($0) } ?? 0, type: row[1] ?? "", occurredAt: row[2] ?? "", from: row[3] ?? "", to: row[4] ?? "",
                  detail: row[5] ?? "")
        }
    }
}
