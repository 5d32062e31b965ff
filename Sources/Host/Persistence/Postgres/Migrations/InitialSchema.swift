import Domain
import HostCore
/// Version 1: users and their API keys, send-configs (BYOK credentials sealed
/// with secretbox), batches and their recipients, suppressions and the audit log.
enum InitialSchema {
    static let migration = Migration(version: 1, name: "initial schema", sql: """
        CREATE TABLE users (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            email text NOT NULL UNIQUE,
            created_at timestamptz NOT NULL DEFAULT now());

        CREATE TABLE api_keys (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            name text NOT NULL,
            prefix text NOT NULL,
            key_hash bytea NOT NULL UNIQUE,
            created_at timestamptz NOT NULL DEFAULT now(),
            last_used_at timestamptz,
            revoked_at timestamptz);
        CREATE INDEX api_keys_user ON api_keys (user_id);

        CREATE TABLE send_configs (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            name text NOT NULL,
            provider text NOT NULL,
            mode text NOT NULL CHECK (mode IN ('managed', 'byok')),
            sealed_credentials bytea NOT NULL,
            credentials_nonce bytea NOT NULL,
            rate_limit integer CHECK (rate_limit IS NULL OR rate_limit > 0),
            defaults jsonb NOT NULL DEFAULT '{}',
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            deleted_at timestamptz,
            UNIQUE (user_id, name));

        CREATE TABLE batches (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            send_config_id uuid NOT NULL REFERENCES send_configs(id),
            name text NOT NULL,
            status text NOT NULL DEFAULT 'draft'
                CHECK (status IN ('draft', 'queued', 'processing', 'completed', 'cancelled', 'failed')),
            payload jsonb NOT NULL,
            scheduled_at timestamptz,
            recipient_count integer NOT NULL DEFAULT 0,
            duplicate_count integer NOT NULL DEFAULT 0,
            sent_count integer NOT NULL DEFAULT 0,
            delivered_count integer NOT NULL DEFAULT 0,
            failed_count integer NOT NULL DEFAULT 0,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            queued_at timestamptz,
            completed_at timestamptz);
        CREATE INDEX batches_user_created ON batches (user_id, created_at DESC, id DESC);

        CREATE TABLE recipients (
            batch_id uuid NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
            position integer NOT NULL,
            address text NOT NULL,
            variables jsonb NOT NULL DEFAULT '{}',
            status text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'queued', 'sent', 'delivered', 'deferred', 'bounced',
                                  'complained', 'rejected', 'failed', 'suppressed', 'cancelled')),
            provider_message_id text,
            attempts integer NOT NULL DEFAULT 0,
            last_error text,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (batch_id, position),
            UNIQUE (batch_id, address));
        CREATE INDEX recipients_batch_status ON recipients (batch_id, status, position);
        CREATE INDEX recipients_provider_message ON recipients (provider_message_id) WHERE provider_message_id IS NOT NULL;

        CREATE TABLE suppressions (
            user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            address text NOT NULL,
            reason text NOT NULL,
            source text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (user_id, address));

        CREATE TABLE audit_log (
            id bigserial PRIMARY KEY,
            user_id uuid REFERENCES users(id) ON DELETE SET NULL,
            action text NOT NULL,
            subject_type text NOT NULL,
            subject_id text,
            detail jsonb NOT NULL DEFAULT '{}',
            created_at timestamptz NOT NULL DEFAULT now());
        CREATE INDEX audit_log_user_time ON audit_log (user_id, created_at DESC);
        """)
}
