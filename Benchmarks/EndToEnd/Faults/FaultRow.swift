/// One fault's outcome, as `batchsender faults` prints it.
struct FaultRow {
    let fault: Fault
    var recipients = 0
    /// Recipients the batch counts as sent, and its final status ("" while it never settled).
    var sent = 0
    var status = ""
    /// Recipients who never got their message (or, for analytics and webhooks, whose event never landed).
    var lost = 0
    /// Recipients given the same message twice (the sandbox's `duplicate_deliveries`), and what is allowed.
    var duplicates = 0
    var allowedDuplicates = 0
    /// The batch did not reach a final status in time.
    var stuck = false
    /// The batch's counters agree with its recipient rows.
    var countersMatchRows = false
    /// From the fault to the first message accepted after it was mended; nil when sending never paused for it.
    var recoverSeconds: Double?
    var seconds = 0.0
    var note = ""

    var passed: Bool { !stuck && countersMatchRows && lost == 0 && duplicates <= allowedDuplicates }

    static let header = ["fault", "sent", "lost", "dup", "allowed", "stuck", "counters", "recover s", "total s", "verdict"]

    var cells: [String] {
        [fault.rawValue, "\(sent)/\(recipients)", "\(lost)", "\(duplicates)", "\(allowedDuplicates)", stuck ? "yes" : "no",
         countersMatchRows ? "= rows" : "≠ rows", recoverSeconds.map { String(format: "%.1f", $0) } ?? "-", String(format: "%.1f", seconds),
         passed ? "ok" : "FAILED"]
    }
}
