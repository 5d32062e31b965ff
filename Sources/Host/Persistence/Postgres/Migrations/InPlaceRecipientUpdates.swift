import Domain
import HostCore
/// Version 20: a recipient's status changes in place (a HOT update: a new row version on the same page and no
/// new index entry), on the send (pending → sent) and on a webhook's move (sent → delivered). PostgreSQL
/// updates in place only when no indexed column changes and the page has room, and until now every such
/// update changed two: `status`, read by the by-status index's predicate, and `provider_message_id`, indexed
/// for the webhooks' lookup. Each update so wrote a new entry in all four indexes. Measured on this machine
/// (300,000 rows, rounds of 3,100 as the sender writes them, then moves of 500 as the webhook processor
/// makes them): 16–17 µs a row for either before, 9 µs a send and 5.5–7 µs a move after.
///
/// - The by-status index is on `rare_status`, a stored generated column that holds the status only when it
///   is one of the rare ones worth finding by index, and null for `commonStatuses`: a change between those
///   leaves every indexed value as it was. Queries that find rows by a rare status read `rare_status`.
/// - The webhooks' lookup is its own table, `provider_messages`, written by the statement that records a
///   send; `recipients.provider_message_id` stays the record the API shows, and no longer has an index.
/// - Pages are filled to half (`fillfactor`), so that the send's new version of every row fits beside the old
///   one; the old versions are pruned when the page is next visited, which leaves room for the webhook's.
///   The table takes about twice the space it took.
///
/// Adding a stored column rewrites the table once, under a lock that holds uploads and sends until it ends.
enum InPlaceRecipientUpdates {
    /// The statuses the by-status index leaves out (null in `rare_status`): frozen with this version, since the
    /// column's expression is.
    static let commonStatuses: [RecipientStatus] = [.pending, .sent, .delivered]

    static let migration = Migration(version: 20, name: "recipients updated in place", sql: """
        ALTER TABLE recipients SET (fillfactor = 50);
        ALTER TABLE recipients ADD COLUMN rare_status text GENERATED ALWAYS AS
            (CASE WHEN status IN \(RecipientStatus.sqlList(commonStatuses)) THEN NULL ELSE status END) STORED;
        CREATE INDEX recipients_by_rare_status ON recipients (batch_id, rare_status, position) WHERE rare_status IS NOT NULL;
        DROP INDEX recipients_rare_status;

        CREATE TABLE provider_messages (
            provider_message_id text NOT NULL,
            batch_id uuid NOT NULL,
            position bigint NOT NULL);
        INSERT INTO provider_messages (provider_message_id, batch_id, position)
            SELECT provider_message_id, batch_id, position FROM recipients WHERE provider_message_id IS NOT NULL;
        CREATE INDEX provider_messages_by_id ON provider_messages (provider_message_id);
        DROP INDEX recipients_provider_message;

        -- A batch's rows go with it. Only drafts are deleted today, which have none; the recipients' own
        -- trigger runs after this one (triggers fire in name order), so their ids still name these rows.
        CREATE FUNCTION batches_delete_provider_messages() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM provider_messages p USING recipients r
            WHERE r.batch_id = OLD.id AND r.provider_message_id IS NOT NULL
              AND p.provider_message_id = r.provider_message_id AND p.batch_id = OLD.id;
            RETURN OLD;
        END $$;
        CREATE TRIGGER batches_deleted_delete_provider_messages BEFORE DELETE ON batches
            FOR EACH ROW EXECUTE FUNCTION batches_delete_provider_messages();
        """)
}
