import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle

/// The ops port (`serve --ops-port N`, opt-in), for a process without the API, such as a receiver run apart:
/// `GET /metrics` (the process's registry, Prometheus text) and `GET /health`, for the operator's scraper.
/// The receiver's own port is public and serves neither metrics nor anything else an operator alone should read.
/// Each connection must finish a request within `deadlineMs` (`[webhooks] request_timeout_ms`), as the receiver's.
public final class OpsServer: Service, Sendable {
    private let host: String
    private let port: Int
    private let deadline: TimeAmount
    private let logger: Logger
    private let onReady: @Sendable (Int) -> Void

    public init(host: String, port: Int, deadlineMs: Int64, logger: Logger, onReady: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.host = host
        self.port = port
        self.deadline = .milliseconds(deadlineMs)
        self.logger = logger.role("receiver")
        self.onReady = onReady
    }

    public func run() async throws {
        let registry = PrometheusMetricsFactory.defaultRegistry
        let deadline = self.deadline
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(RequestDeadlineHandler(deadline: deadline))
                    try channel.pipeline.syncOperations.addHandler(OpsHTTPHandler { registry.emitToBuffer() })
                }
            }
            .bind(host: host, port: port).get()
        onReady(server.localAddress?.port ?? 0)
        // Nothing here is worth draining: the scraper asks again.
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                try? await server.closeFuture.get()
            } onGracefulShutdown: {
                server.close(promise: nil)
            }
        } onCancel: {
            server.close(promise: nil)
        }
        logger.info("ops port closed")
    }
}

/// One ops connection's requests: `GET /metrics`, `GET /health`, 404 or 405 otherwise.
final class OpsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let metrics: @Sendable () -> [UInt8]
    private var head: HTTPRequestHead?

    init(metrics: @escaping @Sendable () -> [UInt8]) {
        self.metrics = metrics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let (status, body, type): (HTTPResponseStatus, [UInt8], String) = switch (head.method, path) {
            case (.GET, "/metrics"): (.ok, metrics(), "text/plain; version=0.0.4; charset=utf-8")
            case (.GET, "/health"): (.ok, Array(#"{"status":"ok"}"#.utf8), "application/json")
            case (_, "/metrics"), (_, "/health"): (.methodNotAllowed, Array(#"{"error":{"code":"method_not_allowed","message":"GET only"}}"#.utf8), "application/json")
            default: (.notFound, Array(#"{"error":{"code":"not_found","message":"the ops port serves GET /metrics and GET /health"}}"#.utf8), "application/json")
            }
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: type)
            headers.add(name: "content-length", value: String(body.count))
            if !head.isKeepAlive { headers.add(name: "connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
            let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if !head.isKeepAlive {
                let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
                done.whenComplete { _ in bound.value.close(promise: nil) }
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
