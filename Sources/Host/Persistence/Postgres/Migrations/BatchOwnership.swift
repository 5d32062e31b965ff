/// What a foreign key to `batches` guaranteed, kept once per statement instead of once per row (versions 3
/// and 19): every statement that inserts rows locks their batches (`FOR KEY SHARE`, as the key would, so a
/// concurrent delete waits) and fails with SQLSTATE 23503 if one is missing; a row never moves to another
/// batch; deleting a batch deletes its rows. `rows` names them in messages ("recipients"), `row` one of them.
enum BatchOwnership {
    static func sql(table: String, rows: String, row: String) -> String {
        """
        CREATE FUNCTION \(table)_require_batches() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            missing uuid;
        BEGIN
            PERFORM 1 FROM batches WHERE id IN (SELECT DISTINCT batch_id FROM changed) FOR KEY SHARE;
            SELECT c.batch_id INTO missing FROM (SELECT DISTINCT batch_id FROM changed) c
            WHERE NOT EXISTS (SELECT 1 FROM batches b WHERE b.id = c.batch_id) LIMIT 1;
            IF FOUND THEN
                RAISE EXCEPTION '\(rows) refer to batch %, which does not exist', missing
                    USING ERRCODE = 'foreign_key_violation';
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER \(table)_inserted_require_batches AFTER INSERT ON \(table)
            REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION \(table)_require_batches();

        CREATE FUNCTION \(table)_refuse_moves() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'a \(row) belongs to its batch for good (batch % to %)', OLD.batch_id, NEW.batch_id
                USING ERRCODE = 'foreign_key_violation';
        END $$;
        CREATE TRIGGER \(table)_stay_in_their_batch BEFORE UPDATE OF batch_id ON \(table)
            FOR EACH ROW WHEN (OLD.batch_id IS DISTINCT FROM NEW.batch_id) EXECUTE FUNCTION \(table)_refuse_moves();

        CREATE FUNCTION batches_delete_\(table)() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM \(table) WHERE batch_id = OLD.id;
            RETURN OLD;
        END $$;
        CREATE TRIGGER batches_deleted_delete_\(table) BEFORE DELETE ON batches
            FOR EACH ROW EXECUTE FUNCTION batches_delete_\(table)();
        """
    }
}
