import HostCore
import ProviderModel

/// Recipients that used every attempt: their chunk job (only them) and each
/// one's last reason, kept in the dead-letter stream until a person re-drives them.
public struct DeadLetter: Sendable {
    public var job: ChunkJob
    public var reasons: [String]

    public init(job: ChunkJob, exhausted: [(recipient: ChunkJob.Recipient, reason: String)]) {
        var only = job
        only.recipients = exhausted.map(\.recipient)
        self.job = only
        reasons = exhausted.map(\.reason)
    }


    public init(decoding bytes: [UInt8]) throws(ChunkJobError) {
        guard let value = JSONValue.parse(bytes), let jobValue = value["job"] else { throw ChunkJobError("a dead letter has a job") }
        job = try ChunkJob(decoding: jobValue.compactBytes)
        reasons = value["reasons"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }
}
