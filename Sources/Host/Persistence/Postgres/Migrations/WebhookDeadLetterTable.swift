import Domain
import HostCore
/// Version 10: stored webhooks the processor could not apply (PostgreSQL refused an event of them
/// after every attempt, or their plugin could not parse them), kept with the reasons for an operator:
/// `batchsender webhooks dead-letters`. The envelope is the stored webhook byte for byte, so a fixed
/// deployment can apply it again; its digest keeps one webhook from being kept twice when an ack is lost.
enum WebhookDeadLetterTable {
    static let migration = Migration(version: 10, name: "webhook dead letters", sql: """
        CREATE TABLE webhook_dead_letters (
            id bigserial PRIMARY KEY,
            provider text NOT NULL,
            send_config_id text,
            received_at timestamptz,
            deliveries integer NOT NULL,
            reasons text[] NOT NULL,
            envelope bytea NOT NULL,
            digest bytea GENERATED ALWAYS AS (sha256(envelope)) STORED UNIQUE,
            dead_at timestamptz NOT NULL DEFAULT now());
        CREATE INDEX webhook_dead_letters_dead ON webhook_dead_letters (dead_at DESC);
        """)
}
