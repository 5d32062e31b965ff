/// What the background role does with a batch whose counters it has just stored: the completion rule.
public enum BatchSettlement: Sendable, Equatable {
    /// Every recipient the pipeline owes has an outcome, and the batch is fully expanded: completed (the
    /// ledger still checks that no row waits), then its hot state retired.
    case complete
    /// Finished already (completed, or cancelled and quiet for longer than a claim lives): its hot state goes.
    case retire
    /// Still owed work, or a cancelled batch whose in-flight sends may still record outcomes.
    case keep

    /// `decided` counts outcomes (sent, failed, suppressed late) in the hot counters; `owed` is the batch's
    /// recipients less those suppressed at upload; `quietMs` is how long since its counters last moved.
    public static func of(status: BatchStatus, expanded: Bool, decided: Int, owed: Int, quietMs: Int64, claimHoldMs: Int64) -> BatchSettlement {
        switch status {
        case .processing: expanded && decided >= owed ? .complete : .keep
        // Sends in flight at the cancel still record their outcomes; retired once quiet.
        case .cancelled: quietMs > claimHoldMs ? .retire : .keep
        case .completed: .retire
        case .draft, .queued, .failed: .keep
        }
    }
}
