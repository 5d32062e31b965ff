import Domain
/// Version 19: `recipient_events` checks its batches once per statement, as `recipients` does since
/// version 3. The webhook processor keeps a round's events (500 by default) with one INSERT, and the
/// foreign key ran one lookup of `batches` per row: with pg_stat_statements on `bench webhooks --apart`,
/// that INSERT was 40 µs of PostgreSQL per event, the largest of the round's statements beside the
/// move of the recipients. The key's guarantees stay (`BatchOwnership`).
enum RecipientEventBatchCheck {
    static let migration = Migration(version: 19, name: "recipient events check their batches per statement", sql: """
        ALTER TABLE recipient_events DROP CONSTRAINT recipient_events_batch_id_fkey;
        \(BatchOwnership.sql(table: "recipient_events", rows: "recipient events", row: "recipient event"))
        """)
}
