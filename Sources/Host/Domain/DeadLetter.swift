import HostCore
import ProviderModel

/// Recipients that used every attempt: their chunk job (only them) and each
/// one's last reason, kept in the dead-letter stream until a person re-drives them. The sender stores it
/// before the recipients' outcome, so it may name recipients a retry sent after all: `plan` skips them.
public struct DeadLetter: Sendable {
    public var job: ChunkJob
    public var reasons: [String]

    public init(job: ChunkJob, exhausted: [(recipient: ChunkJob.Recipient, reason: String)]) {
        var only = job
        only.recipients = exhausted.map(\.recipient)
        self.job = only
        reasons = exhausted.map(\.reason)
    }

    /// What a redrive does with this letter, from where its recipients' rows stand now.
    public enum RedrivePlan: Sendable, Equatable {
        /// A recipient still waits to be sent (the letter was stored before its outcome, and the sender that
        /// published it stopped before recording it, or a redrive sends it now): the letter stays until it is decided.
        case wait
        /// Send these again and remove the letter: the recipients whose rows failed before a provider took them.
        /// The others were sent after all (a retry after a crash), or cancelled or suppressed since: never again.
        case redrive([Int])
        /// None of its recipients has a row in this database: another deployment's letter (a command run with
        /// another's config) or a batch deleted. Kept for the deployment it belongs to, never removed from here.
        case notHere
    }

    public func plan(standing: [Int: (status: RecipientStatus, accepted: Bool)]) -> RedrivePlan {
        let positions = job.recipients.map(\.position)
        if !positions.isEmpty, positions.allSatisfy({ standing[$0] == nil }) { return .notHere }
        if positions.contains(where: { standing[$0]?.status.isWaiting == true }) { return .wait }
        return .redrive(positions.filter { standing[$0].map { $0.status == .failed && !$0.accepted } ?? false })
    }

    public init(decoding bytes: [UInt8]) throws(ChunkJobError) {
        guard let value = JSONValue.parse(bytes), let jobValue = value["job"] else { throw ChunkJobError("a dead letter has a job") }
        job = try ChunkJob(decoding: jobValue.compactBytes)
        reasons = value["reasons"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }
}
