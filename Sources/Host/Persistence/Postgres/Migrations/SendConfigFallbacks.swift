import Domain
import HostCore
/// Version 18: provider failover. A send-config names the configs its unsent messages go through while its
/// provider is down (`fallbacks`, in order); a recipient sent through one of them records it (`sent_via`, null
/// for the batch's own config), so that the fallback's webhooks find it; a batch remembers the config its
/// messages go through now (`routed_via`, null for its own), and every switch is a row of `batch_events`.
enum SendConfigFallbacks {
    static let migration = Migration(version: 18, name: "send-config fallbacks", sql: """
        ALTER TABLE send_configs ADD COLUMN fallbacks uuid[] NOT NULL DEFAULT '{}';
        ALTER TABLE recipients ADD COLUMN sent_via uuid;
        ALTER TABLE batches ADD COLUMN routed_via uuid;
        CREATE TABLE batch_events (
            id bigserial PRIMARY KEY,
            batch_id uuid NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
            occurred_at timestamptz NOT NULL DEFAULT now(),
            type text NOT NULL,
            from_send_config uuid,
            to_send_config uuid,
            detail text NOT NULL DEFAULT '');
        CREATE INDEX batch_events_by_batch ON batch_events (batch_id, id);
        """)
}
