import Domain
import HostCore
/// Version 3: recipients shaped for uploads of 100,000 rows at a time, measured
/// on the merge of one such chunk into a batch:
///
/// - A foreign key runs one lookup per inserted row (a third of the merge's
///   time). The same guarantee holds once per statement: every statement that
///   inserts recipients locks their batches (`FOR KEY SHARE`, as a foreign key
///   would, so a concurrent delete waits) and fails with SQLSTATE 23503 if one
///   is missing; a recipient never moves to another batch (so status updates,
///   the hot path later, pay nothing); deleting a batch deletes its
///   recipients, as the cascade did.
/// - Addresses compare bytewise (`COLLATE "C"`): they are normalised before
///   they are stored, so a locale's ordering buys nothing and costs every
///   sort and every probe of the per-batch unique index.
/// - The by-status index leaves out `pending` rows: an upload inserts only
///   those, and listing pending recipients walks the primary key anyway.
/// - Positions come from one sequence (bigint): increasing in upload order
///   within a batch, not contiguous, so that chunks of one batch merge at the
///   same time instead of waiting for each other's last position. Rows stored
///   before keep theirs; the sequence starts above them.
enum RecipientBulkLoading {
    static let migration = Migration(version: 3, name: "recipients shaped for bulk uploads", sql: """
        ALTER TABLE recipients DROP CONSTRAINT recipients_batch_id_fkey;
        ALTER TABLE recipients ALTER COLUMN address TYPE text COLLATE "C";
        ALTER TABLE suppressions ALTER COLUMN address TYPE text COLLATE "C";
        ALTER TABLE recipients ALTER COLUMN position TYPE bigint;
        CREATE SEQUENCE recipient_positions AS bigint;
        SELECT setval('recipient_positions', coalesce(max(position), 0) + 1, false) FROM recipients;
        DROP INDEX recipients_batch_status;
        CREATE INDEX recipients_batch_status ON recipients (batch_id, status, position) WHERE status <> 'pending';

        CREATE FUNCTION recipients_require_batches() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            missing uuid;
        BEGIN
            PERFORM 1 FROM batches WHERE id IN (SELECT DISTINCT batch_id FROM changed) FOR KEY SHARE;
            SELECT c.batch_id INTO missing FROM (SELECT DISTINCT batch_id FROM changed) c
            WHERE NOT EXISTS (SELECT 1 FROM batches b WHERE b.id = c.batch_id) LIMIT 1;
            IF FOUND THEN
                RAISE EXCEPTION 'recipients refer to batch %, which does not exist', missing
                    USING ERRCODE = 'foreign_key_violation';
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER recipients_inserted_require_batches AFTER INSERT ON recipients
            REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION recipients_require_batches();

        CREATE FUNCTION recipients_refuse_moves() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'a recipient belongs to its batch for good (batch % to %)', OLD.batch_id, NEW.batch_id
                USING ERRCODE = 'foreign_key_violation';
        END $$;
        CREATE TRIGGER recipients_stay_in_their_batch BEFORE UPDATE OF batch_id ON recipients
            FOR EACH ROW WHEN (OLD.batch_id IS DISTINCT FROM NEW.batch_id) EXECUTE FUNCTION recipients_refuse_moves();

        CREATE FUNCTION batches_delete_recipients() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM recipients WHERE batch_id = OLD.id;
            RETURN OLD;
        END $$;
        CREATE TRIGGER batches_deleted_delete_recipients BEFORE DELETE ON batches
            FOR EACH ROW EXECUTE FUNCTION batches_delete_recipients();
        """)
}
