import Domain
/// Version 19: `recipient_events` checks its batches once per statement, as `recipients` does since
/// version 3. The webhook processor keeps a round's events (500 by default) with one INSERT, and the
/// foreign key ran one lookup of `batches` per row: with pg_stat_statements on `bench webhooks --apart`,
/// that INSERT was 40 µs of PostgreSQL per event, the largest of the round's statements beside the
/// move of the recipients. The guarantees stay: every statement that inserts events locks their batches
/// (`FOR KEY SHARE`, as the key would, so a concurrent delete waits) and fails with SQLSTATE 23503 if one
/// is missing; an event never moves to another batch; deleting a batch deletes its events.
enum RecipientEventBatchCheck {
    static let migration = Migration(version: 19, name: "recipient events check their batches per statement", sql: """
        ALTER TABLE recipient_events DROP CONSTRAINT recipient_events_batch_id_fkey;

        CREATE FUNCTION recipient_events_require_batches() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            missing uuid;
        BEGIN
            PERFORM 1 FROM batches WHERE id IN (SELECT DISTINCT batch_id FROM changed) FOR KEY SHARE;
            SELECT c.batch_id INTO missing FROM (SELECT DISTINCT batch_id FROM changed) c
            WHERE NOT EXISTS (SELECT 1 FROM batches b WHERE b.id = c.batch_id) LIMIT 1;
            IF FOUND THEN
                RAISE EXCEPTION 'recipient events refer to batch %, which does not exist', missing
                    USING ERRCODE = 'foreign_key_violation';
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER recipient_events_inserted_require_batches AFTER INSERT ON recipient_events
            REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION recipient_events_require_batches();

        CREATE FUNCTION recipient_events_refuse_moves() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'a recipient event belongs to its batch for good (batch % to %)', OLD.batch_id, NEW.batch_id
                USING ERRCODE = 'foreign_key_violation';
        END $$;
        CREATE TRIGGER recipient_events_stay_in_their_batch BEFORE UPDATE OF batch_id ON recipient_events
            FOR EACH ROW WHEN (OLD.batch_id IS DISTINCT FROM NEW.batch_id) EXECUTE FUNCTION recipient_events_refuse_moves();

        CREATE FUNCTION batches_delete_recipient_events() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM recipient_events WHERE batch_id = OLD.id;
            RETURN OLD;
        END $$;
        CREATE TRIGGER batches_deleted_delete_recipient_events BEFORE DELETE ON batches
            FOR EACH ROW EXECUTE FUNCTION batches_delete_recipient_events();
        """)
}
