import Domain
import HostCore
/// Version 15: a finished batch's failed recipients can be sent again (`POST /api/batches/{id}/retry-failed`).
/// `retry_round` counts those retries: the batch's jobs and chunks of a retry carry it in their ids, so that
/// JetStream does not drop them as repeats of the first send's, which it may still remember.
enum BatchRetries {
    static let migration = Migration(version: 15, name: "batch retries", sql: """
        ALTER TABLE batches ADD COLUMN retry_round integer NOT NULL DEFAULT 0;
        """)
}
