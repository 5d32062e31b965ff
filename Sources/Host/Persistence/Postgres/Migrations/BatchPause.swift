import Domain
import HostCore
/// Version 14: a batch can be paused while it sends. `paused_at` says since when (null: not paused) and
/// `pause_version` counts its pauses and resumes, so that the flag the senders read in Redis always ends up
/// as the last of them said, whatever order their writes reach it in.
enum BatchPause {
    static let migration = Migration(version: 14, name: "batch pause", sql: """
        ALTER TABLE batches
            ADD COLUMN paused_at timestamptz,
            ADD COLUMN pause_version integer NOT NULL DEFAULT 0;
        """)
}
