/// Where a role puts the jobs it makes (batch jobs, chunk jobs, dead letters): JetStream in a process,
/// a list in a unit test. Returns once the stream has stored every message.
public protocol JobPublishing: Sendable {
    func publish(_ messages: [OutgoingMessage]) async throws
}
