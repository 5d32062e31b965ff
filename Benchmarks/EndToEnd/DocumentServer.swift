import App
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// One document served over HTTP on a loopback port the system picks, for as
/// long as the benchmark runs: the certificate an SNS signature names.
final class DocumentServer: Sendable {
    let port: Int
    private let group: ServiceGroup

    private init(port: Int, group: ServiceGroup) {
        self.port = port
        self.group = group
    }

    static func start(path: String, document: [UInt8]) async throws -> DocumentServer {
        let router = Router()
        router.get(RouterPath(path)) { _, _ in
            Response(status: .ok, headers: [.contentType: "application/x-pem-file"], body: .init(byteBuffer: ByteBuffer(bytes: document)))
        }
        var logger = Logger(label: "bench.documents")
        logger.logLevel = .warning
        let (ports, listening) = AsyncStream<Int>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in listening.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            await group.triggerGracefulShutdown()
            throw CommandFailure("the certificate server did not start")
        }
        return DocumentServer(port: port, group: group)
    }

    func stop() {
        let group = self.group
        Task { await group.triggerGracefulShutdown() }
    }
}
