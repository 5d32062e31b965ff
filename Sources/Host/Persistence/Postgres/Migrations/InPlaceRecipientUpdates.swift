import Domain
import HostCore
/// Version 20: a batch recipient's status changes in place (a HOT update: a new row version on the same page and
/// no new index entry), on the send (pending → sent) and on a webhook's move (sent → delivered). A single
/// message's recipient, stored `queued`, and a retried one still change a rare status, which is indexed. PostgreSQL
/// updates in place only when no indexed column changes and the page has room, and until now every such
/// update changed two: `status`, read by the by-status index's predicate, and `provider_message_id`, indexed
/// for the webhooks' lookup. Each update so wrote a new entry in the primary key, the per-batch address index
/// and the provider-message index. Measured on this machine (300,000 rows, rounds of 3,100 as the sender
/// writes them, then moves of 500 as the webhook processor makes them): 16–17 µs a row for either before,
/// 8.5–9 µs a send and 5.4–6.9 µs a move after.
///
/// - The by-status index is on `rare_status`, a stored generated column that holds the status only when it
///   is one of the rare ones worth finding by index, and null for `RecipientStatus.common`, whose words the
///   expression spells out (frozen with this version; a test checks that the two agree): a change between
///   those leaves every indexed value as it was. Queries that find rows by a rare status read `rare_status`.
/// - The webhooks' lookup is its own table, `provider_messages`, written by the statement that records a
///   send (`Recipients.write`); `recipients.provider_message_id` stays the record the API shows, and no
///   longer has an index. Its key is the whole row, so an id written twice is kept once (until version 22,
///   `ProviderMessageHashLookup`, which traded the key for a hash index); its ids compare bytewise
///   (`COLLATE "C"`, as addresses do since version 3).
/// - Pages are filled to half (`fillfactor`), so that the send's new version of every row fits beside the old
///   one; the old versions are pruned when the page is next visited, which leaves room for the webhook's.
///   The table takes about twice the space it took. (Version 23, `RecipientPageRoom`, fills new pages to
///   40 %.)
///
/// Adding a stored column rewrites the table once, under a lock that holds every read and write of recipients
/// until the migration ends; for a while the old and the new copy are both on disk. Senders and webhook
/// processors of an older version would write and look up ids where this version no longer does: they are
/// stopped before it runs (docs/deploy.md, "Upgrading to migration 20"). The migration locks no other table
/// (a writer holding `batches` while waiting for `recipients` would otherwise deadlock with it at the end of
/// the rewrite): a batch's lookup rows go with it through the function the batch's delete trigger already runs.
enum InPlaceRecipientUpdates {
    static let migration = Migration(version: 20, name: "recipients updated in place", sql: """
        DROP INDEX IF EXISTS recipients_rare_status;
        DROP INDEX IF EXISTS recipients_provider_message;
        ALTER TABLE recipients SET (fillfactor = 50),
            ADD COLUMN rare_status text GENERATED ALWAYS AS
                (CASE WHEN status IN ('pending', 'sent', 'delivered') THEN NULL ELSE status END) STORED;
        CREATE INDEX recipients_by_rare_status ON recipients (batch_id, rare_status, position) WHERE rare_status IS NOT NULL;

        CREATE TABLE provider_messages (
            provider_message_id text COLLATE "C" NOT NULL,
            batch_id uuid NOT NULL,
            position bigint NOT NULL,
            PRIMARY KEY (provider_message_id, batch_id, position));
        INSERT INTO provider_messages (provider_message_id, batch_id, position)
            SELECT provider_message_id, batch_id, position FROM recipients WHERE provider_message_id IS NOT NULL
            ON CONFLICT DO NOTHING;

        CREATE OR REPLACE FUNCTION batches_delete_recipients() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM provider_messages p USING recipients r
            WHERE r.batch_id = OLD.id AND r.provider_message_id IS NOT NULL
              AND p.provider_message_id = r.provider_message_id AND p.batch_id = OLD.id;
            DELETE FROM recipients WHERE batch_id = OLD.id;
            RETURN OLD;
        END $$;
        ANALYZE recipients, provider_messages;
        """)
}
