import Domain
/// Version 21: a recipient's events are keyed by the recipient first, `(batch_id, position, provider, event_id)`,
/// and that key is the table's only index. It was `(provider, event_id, batch_id, position)` beside a second index
/// on `(batch_id, position, occurred_at)` for a recipient's history: every event the webhook processor kept wrote
/// two index entries, and nothing reads the table by event id alone (the insert's `ON CONFLICT` takes any unique
/// key, and the history and a batch's delete read by recipient). Measured with psql on this machine, 400,000
/// events kept and 200,000 more inserted in rounds of 500 as the processor keeps them: 10.6–23.2 µs an event with
/// both indexes, 7.0–14.2 with this key alone, in alternating runs. The trade-off: a recipient's history (at most
/// 1,000 events a read) now reads all of that recipient's events and sorts them by time, where the dropped index
/// gave them in order; a recipient with many thousands of opens and clicks costs one such sort per read.
///
/// The key is built concurrently under a new name (the same columns as the old key, so the same rows are unique),
/// while events keep being kept; only the swap of the constraint and the drop of the old index take the table's
/// lock, briefly. A build interrupted half way leaves an invalid index of the new name, which the next run drops
/// and builds again.
enum RecipientEventKey {
    static let migration = Migration(version: 21, name: "recipient events keyed by recipient", sql: """
        ALTER TABLE recipient_events DROP CONSTRAINT recipient_events_pkey,
            ADD CONSTRAINT recipient_events_pkey PRIMARY KEY USING INDEX recipient_events_key;
        DROP INDEX recipient_events_recipient;
        ANALYZE recipient_events;
        """, concurrently: [
        "DROP INDEX CONCURRENTLY IF EXISTS recipient_events_key",
        "CREATE UNIQUE INDEX CONCURRENTLY recipient_events_key ON recipient_events (batch_id, position, provider, event_id)",
    ])
}
