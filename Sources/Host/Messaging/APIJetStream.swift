import Domain
import HostCore
import Synchronization

/// The API's JetStream: where it puts its jobs (single transactional messages on `sys.email.priority`, which
/// every sender lane serves before bulk chunks, and the batch jobs of retries) and reads the work queue's
/// depths (`/api/queue`, `/admin/queue`). It connects on first use, so the API starts while NATS is away (and
/// `/ready` says so); a failed publish drops the connection to be made again on the next one.
/// Its calls block: run them on a storage thread.
public final class APIJetStream: Sendable {
    private let url: String
    private let namespace: NATSNamespace
    private let connection = Mutex<JetStream?>(nil)

    public init(natsURL: String, namespace: NATSNamespace) {
        url = natsURL
        self.namespace = namespace
    }

    public func publish(_ job: ChunkJob) throws(NATSError) {
        try publish([OutgoingMessage(subject: Streams.prioritySubject, id: job.messageID, data: job.encoded())])
    }

    public func publish(_ messages: [OutgoingMessage]) throws(NATSError) {
        let jetStream = try connected()
        do {
            try jetStream.publish(messages, timeoutMs: 5_000)
        } catch {
            connection.withLock { $0 = nil }
            throw error
        }
    }

    /// Every consumer of the work stream (the priority lane's, the processor's, each tenant's `sender-<user>`) with
    /// its backlog: messages not yet delivered, and delivered but not acked.
    public func backlogs() throws(NATSError) -> [(name: String, pending: UInt64, unacked: Int64)] {
        let jetStream = try connected()
        do { return try jetStream.consumers(stream: Streams.system) } catch {
            connection.withLock { $0 = nil }
            throw error
        }
    }

    /// One consumer of the work stream with its backlog; nil when it does not exist (a tenant with no work yet).
    public func backlog(consumer: String) throws(NATSError) -> (pending: UInt64, unacked: Int64)? {
        let jetStream = try connected()
        do { return try jetStream.backlog(stream: Streams.system, consumer: consumer) } catch {
            connection.withLock { $0 = nil }
            throw error
        }
    }

    private func connected() throws(NATSError) -> JetStream {
        if let existing = connection.withLock({ $0 }) { return existing }
        let made = try JetStream(url: url, namespace: namespace, maxPending: 1_024, timeoutMs: 2_000)
        try Streams.ensure(made)
        connection.withLock { $0 = made }
        return made
    }
}
