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
}
