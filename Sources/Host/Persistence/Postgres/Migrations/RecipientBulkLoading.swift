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
        \(BatchOwnership.sql(table: "recipients", rows: "recipients", row: "recipient"))
        """)
}
