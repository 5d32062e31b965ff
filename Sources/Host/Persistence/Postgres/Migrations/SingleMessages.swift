import Domain
import HostCore
/// Version 7: single transactional messages (`POST /api/messages`). Each is a batch of one recipient
/// (kind `message`), so the pipeline's claims, records, counters, webhooks and recovery serve it
/// unchanged; `Idempotency-Key` is unique per user, with a hash of the request it answered.
enum SingleMessages {
    static let migration = Migration(version: 7, name: "single messages", sql: """
        ALTER TABLE batches
            ADD COLUMN kind text NOT NULL DEFAULT 'batch' CHECK (kind IN ('batch', 'message')),
            ADD COLUMN idempotency_key text,
            ADD COLUMN request_hash text,
            ADD COLUMN first_answer jsonb;
        CREATE UNIQUE INDEX batches_idempotency_key ON batches (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
        """)
}
