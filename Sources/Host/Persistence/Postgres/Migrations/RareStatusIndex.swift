import Domain
import HostCore
/// Version 13: the by-status index keeps only the statuses worth finding by index (failed, bounced, queued,
/// suppressed, cancelled…), not `sent` and `delivered`. Every send moves a row out of `pending`, and a row
/// that the index holds then costs one more index entry on every update: a third of the time of the
/// bulk write that records a round's outcomes (16,000 rows: 268 ms with the old index, 179 ms without its
/// `sent` entries, measured with EXPLAIN ANALYZE on this machine). Listing the common statuses walks the
/// primary key, as listing `pending` already did.
///
/// Built concurrently, under a new name, before the old index goes: a table of millions of recipients keeps
/// taking sends and uploads while it builds. A build interrupted half way leaves an invalid index of the new
/// name, which the next run drops and builds again.
enum RareStatusIndex {
    static let migration = Migration(version: 13, name: "by-status index without sent and delivered", sql: "", concurrently: [
        "DROP INDEX CONCURRENTLY IF EXISTS recipients_rare_status",
        """
        CREATE INDEX CONCURRENTLY recipients_rare_status ON recipients (batch_id, status, position)
            WHERE status NOT IN \(RecipientStatus.sqlList([.pending, .sent, .delivered]))
        """,
        "DROP INDEX CONCURRENTLY IF EXISTS recipients_batch_status",
    ])
}
