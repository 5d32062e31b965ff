/// Whether a `processing` batch whose counters have not moved for `stuck_after_ms` is stuck (its jobs are
/// gone: recovery starts its expansion over) or only waiting. A batch whose chunks a sender handled lately
/// (sent, or handed back to wait for tokens or a backoff), or whose chunks are due back at a time still to
/// come (a rate limit's appointment, a daily quota an hour away), is alive: restarting it would only publish
/// copies of jobs that are still queued.
public enum BatchLiveness {
    /// `lastHandledMs`: when a sender last recorded anything of the batch; `dueMs`: the latest time a chunk of
    /// it was handed back until (both 0 when unknown, as after Redis lost them: then the quiet alone decides).
    public static func isStuck(nowMs: Int64, lastHandledMs: Int64, dueMs: Int64, stuckAfterMs: Int64) -> Bool {
        nowMs - max(lastHandledMs, dueMs) >= stuckAfterMs
    }
}
