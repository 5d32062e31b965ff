import Domain
import HostCore
/// Version 17: files a user uploads once and names from any number of batches and messages. `batch_attachments`
/// lists a batch's files in order; a delete only hides a file (`deleted_at`) from listings and new batches, so
/// the batches that name it still send it. `attachment_count` and `attachment_bytes` on the batch let the
/// processor size its chunks without reading the files.
enum StoredAttachments {
    static let migration = Migration(version: 17, name: "stored attachments", sql: """
        CREATE TABLE attachments (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            filename text NOT NULL,
            content_type text NOT NULL,
            size integer NOT NULL,
            sha256 text NOT NULL,
            content bytea NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            deleted_at timestamptz);
        CREATE INDEX attachments_by_user ON attachments (user_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
        CREATE TABLE batch_attachments (
            batch_id uuid NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
            position smallint NOT NULL,
            attachment_id uuid NOT NULL REFERENCES attachments(id),
            PRIMARY KEY (batch_id, position));
        CREATE INDEX batch_attachments_by_file ON batch_attachments (attachment_id);
        ALTER TABLE batches
            ADD COLUMN attachment_count smallint NOT NULL DEFAULT 0,
            ADD COLUMN attachment_bytes integer NOT NULL DEFAULT 0;
        """)
}
