import Domain
import HostCore
/// Version 5: what providers' webhooks tell. Every event applied to a
/// recipient is kept once (its provider's event id makes a redelivered or
/// duplicated webhook a no-op); the batch counts each status webhooks move
/// recipients to, so reading a batch still counts nothing; an event whose
/// message the platform never sent is kept as an orphan for an operator.
/// `sent_at` dates the send itself, which later webhooks do not move.
enum DeliveryEvents {
    static let migration = Migration(version: 5, name: "delivery events", sql: """
        ALTER TABLE recipients ADD COLUMN sent_at timestamptz;
        ALTER TABLE batches
            ADD COLUMN bounced_count integer NOT NULL DEFAULT 0,
            ADD COLUMN complained_count integer NOT NULL DEFAULT 0,
            ADD COLUMN rejected_count integer NOT NULL DEFAULT 0,
            ADD COLUMN undelivered_count integer NOT NULL DEFAULT 0;

        CREATE TABLE recipient_events (
            batch_id uuid NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
            position integer NOT NULL,
            provider text NOT NULL,
            event_id text NOT NULL,
            type text NOT NULL,
            bounce_class text,
            occurred_at timestamptz NOT NULL,
            received_at timestamptz NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now(),
            reason text,
            code text,
            url text,
            PRIMARY KEY (provider, event_id, batch_id, position));
        CREATE INDEX recipient_events_recipient ON recipient_events (batch_id, position, occurred_at);

        CREATE TABLE webhook_orphans (
            provider text NOT NULL,
            event_id text NOT NULL,
            send_config_id uuid,
            provider_message_id text NOT NULL,
            type text NOT NULL,
            recipient text NOT NULL,
            occurred_at timestamptz,
            received_at timestamptz NOT NULL,
            kept_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (provider, event_id, provider_message_id, recipient));
        CREATE INDEX webhook_orphans_kept ON webhook_orphans (kept_at DESC);
        """)
}
