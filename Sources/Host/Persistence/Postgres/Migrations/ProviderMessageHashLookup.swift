/// Version 22: the webhooks' lookup of recipients by provider message id (`provider_messages`, version 20) is a
/// hash index on the id alone, no longer a unique B-tree key on the whole row. Every send inserts one lookup row
/// per message in the statement that records it, and that insert was about half of the statement: the key's
/// uniqueness check (with `ON CONFLICT`) descended a B-tree of random text keys for every message. Measured with
/// psql on this machine, 40 rounds of 3,200 rows into a table growing to 128,000: 5.5 µs a row with the unique key
/// (half of the rounds with `ON CONFLICT DO NOTHING`), 3.9 with a plain B-tree on the id, 2.3 with a hash index on
/// the id, 1.0 with no index at all.
///
/// Without a unique key the same row can be written twice: a recipient a webhook moved to `deferred` (a waiting
/// status) and whose send is recorded again under the same id. The reader reads each id's rows as distinct
/// recipients (`Recipients.matching`), so a row written twice is found once, as when the key kept it once.
///
/// The index is built concurrently under a new name while sends keep inserting; only dropping the old key takes
/// the table's lock, for a moment (no statistics change, so nothing is analyzed under it). An index of the new name
/// left by an interrupted run (invalid, or built before the key's drop failed) is dropped and built again by the
/// next run.
enum ProviderMessageHashLookup {
    static let migration = Migration(version: 22, name: "provider message lookup by hash", sql: """
        ALTER TABLE provider_messages DROP CONSTRAINT provider_messages_pkey;
        """, concurrently: [
        "DROP INDEX CONCURRENTLY IF EXISTS provider_messages_by_id",
        "CREATE INDEX CONCURRENTLY provider_messages_by_id ON provider_messages USING hash (provider_message_id)",
    ])
}
