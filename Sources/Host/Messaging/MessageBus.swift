import HostCore
import NIOPosix

/// One JetStream connection and the threads its blocking calls run on (libnats blocks; the cooperative pool
/// must not): what a process's roles publish and consume through.
public final class MessageBus: Sendable {
    public let jetStream: JetStream
    let threads: NIOThreadPool

    public init(jetStream: JetStream, threads: NIOThreadPool) {
        self.jetStream = jetStream
        self.threads = threads
    }

    /// A blocking JetStream call, on a thread of its own.
    public func run<T: Sendable>(_ body: @escaping @Sendable (JetStream) throws -> T) async throws -> T {
        let jetStream = self.jetStream
        return try await threads.runIfActive { try body(jetStream) }
    }

    /// A blocking call on one of the bus's threads (a consumer's fetch, a message's ack).
    public func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await threads.runIfActive(body)
    }
}

extension MessageBus: JobPublishing {
    public func publish(_ messages: [OutgoingMessage]) async throws {
        try await run { try $0.publish(messages) }
    }
}
