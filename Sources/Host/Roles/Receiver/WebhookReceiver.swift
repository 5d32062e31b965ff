import Domain
import HostCore
import Logging
import Messaging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import Persistence
import Prometheus
import ProviderInstances
import ServiceLifecycle
import Synchronization

/// The public webhook receiver: `POST /webhooks/{provider}` (the deployment's
/// managed account) and `POST /webhooks/{provider}/{sendConfigId}` (a BYOK
/// config's own URL and secret), plus `GET /health`. Its metrics are on the process's API port, or on
/// the ops port (`OpsServer`) when the process runs the receiver without the API: never on this public one.
///
/// Served straight on SwiftNIO's event loops rather than through the API's
/// router: a webhook is verified, parsed and handed to JetStream on the loop
/// that read it, and answered from the publish's ack, with no task between
/// (`WebhookIntake`). At tens of thousands of requests a second, the hops
/// between event loops and the task pool were most of the cost.
public final class WebhookReceiver: Service, Sendable {
    private let settings: WebhookIngestSettings
    private let intake: WebhookIntake
    private let logger: Logger
    private let onReady: @Sendable (Int) -> Void

    public init(settings: WebhookIngestSettings, instances: WebhookInstances, jetStream: JetStream, fetcher: DocumentFetcher?,
                logger: Logger, onReady: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.settings = settings
        self.logger = logger.role("receiver")
        // The process's one registry, shared with the API and the roles' swift-metrics.
        self.intake = WebhookIntake(settings: settings, instances: instances, jetStream: jetStream, fetcher: fetcher,
                                    registry: PrometheusMetricsFactory.defaultRegistry, logger: self.logger)
        self.onReady = onReady
    }

    public func run() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let quiesce = ServerQuiescingHelper(group: group)
        let routes = ReceiverHTTPHandler.Routes(intake: intake, maxBodyBytes: settings.maxBodyBytes, deadline: .milliseconds(settings.requestTimeoutMs))
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1_024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // The replies' few headers are the receiver's own constants: NIO's validation of them is skipped.
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true, withOutboundHeaderValidation: false)
                    try channel.pipeline.syncOperations.addHandler(ReceiverHTTPHandler(routes: routes))
                }
            }
            .bind(host: settings.host, port: settings.port).get()
        onReady(server.localAddress?.port ?? 0)

        // Shutdown: stop accepting, let each connection finish the request it is in (its reply waits for
        // at most the publish timeout, its reading for the request deadline), then return.
        let drained = group.next().makePromise(of: Void.self)
        let started = Atomic<Bool>(false)
        let shutDown: @Sendable () -> Void = {
            if !started.exchange(true, ordering: .relaxed) { quiesce.initiateShutdown(promise: drained) }
        }
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                try? await drained.futureResult.get()
            } onGracefulShutdown: {
                shutDown()
            }
        } onCancel: {
            shutDown()
        }
        logger.info("receiver stopped")
    }
}
