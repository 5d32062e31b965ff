import Domain
/// Version 21: a recipient's events are keyed by the recipient first, `(batch_id, position, provider, event_id)`,
/// and that key is the table's only index. It was `(provider, event_id, batch_id, position)` beside a second index
/// on `(batch_id, position, occurred_at)` for a recipient's history: every event the webhook processor kept wrote
/// two index entries, and nothing reads the table by event id alone (the insert's `ON CONFLICT` takes any
/// unique key, the history and a batch's delete read by recipient, and a recipient's history is a sort of its own
/// few events). Measured with psql on this machine, 400,000 events kept and 200,000 more inserted in rounds of 500
/// as the processor keeps them: 10.6–23.2 µs an event with both indexes, 7.0–14.2 with this key alone, in
/// alternating runs. Building the key takes about 0.7 s per million events, under a lock that holds the webhook
/// processors' rounds (they wait, then go on).
enum RecipientEventKey {
    static let migration = Migration(version: 21, name: "recipient events keyed by recipient", sql: """
        ALTER TABLE recipient_events DROP CONSTRAINT recipient_events_pkey;
        DROP INDEX recipient_events_recipient;
        ALTER TABLE recipient_events ADD CONSTRAINT recipient_events_pkey PRIMARY KEY (batch_id, position, provider, event_id);
        ANALYZE recipient_events;
        """)
}
