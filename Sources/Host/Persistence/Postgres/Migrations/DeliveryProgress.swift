import Domain
import HostCore
/// Version 4: what the delivery pipeline keeps on a batch. The processor's
/// keyset cursor (the last position whose chunk is published) makes a killed
/// processor resume where it was; `progressed_at` is what stuck-batch
/// recovery watches; counters the pipeline decides are synced here from Redis.
enum DeliveryProgress {
    static let migration = Migration(version: 4, name: "delivery progress", sql: """
        ALTER TABLE batches
            ADD COLUMN started_at timestamptz,
            ADD COLUMN progressed_at timestamptz,
            ADD COLUMN last_outcome_at timestamptz,
            ADD COLUMN cursor_position bigint NOT NULL DEFAULT 0,
            ADD COLUMN expanded_at timestamptz,
            ADD COLUMN cancelled_count integer NOT NULL DEFAULT 0,
            ADD COLUMN late_suppressed_count integer NOT NULL DEFAULT 0,
            ADD COLUMN recoveries integer NOT NULL DEFAULT 0,
            ADD COLUMN failure_reason text;
        CREATE INDEX batches_queued_due ON batches (coalesce(scheduled_at, queued_at)) WHERE status = 'queued';
        CREATE INDEX batches_processing ON batches (progressed_at) WHERE status = 'processing';
        """)
}
