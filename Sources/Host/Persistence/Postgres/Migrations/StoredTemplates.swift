import Domain
import HostCore
/// Version 16: templates kept by the platform, sent by id. A template's versions are immutable rows; the
/// template itself holds its name, channel and latest version, and a delete only hides it (`deleted_at`), so a
/// batch that names a version can always say what it sent. A batch records the version it was made from (no
/// foreign key: versions are never deleted on their own, and a key would lock the template's row for every
/// message made from it). `list_unsubscribe` keeps a message's choice of one-click unsubscribe headers.
enum StoredTemplates {
    static let migration = Migration(version: 16, name: "stored templates", sql: """
        CREATE TABLE templates (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            name text NOT NULL,
            channel text NOT NULL,
            latest_version integer NOT NULL DEFAULT 1,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            deleted_at timestamptz);
        CREATE INDEX templates_by_user ON templates (user_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
        CREATE TABLE template_versions (
            template_id uuid NOT NULL REFERENCES templates(id) ON DELETE CASCADE,
            version integer NOT NULL,
            payload jsonb NOT NULL,
            variables text[] NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (template_id, version));
        ALTER TABLE batches
            ADD COLUMN template_id uuid,
            ADD COLUMN template_version integer,
            ADD COLUMN list_unsubscribe boolean NOT NULL DEFAULT true;
        """)
}
