import HostCore

/// A batch job on `sys.batch.process`: the batch's id. `round` tells a
/// recovery's job (a new id) from the discoverer's (which a repeat must not republish); `retry`, the
/// retries of its failed recipients (`retry_round`), each sent as a new job.
public struct BatchJob: Sendable {
    public var batchID: String
    public var round: Int
    public var retry: Int

    public init(batchID: String, round: Int = 0, retry: Int = 0) {
        self.batchID = batchID
        self.round = round
        self.retry = retry
    }
}
