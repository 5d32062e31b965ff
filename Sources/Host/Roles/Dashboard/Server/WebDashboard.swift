import HostCore
import Hummingbird
import Logging
import SenderAPI
import Services
import ServiceLifecycle

/// The `web` role: the dashboard on its own port (3000 by default), over the sender API's routes in
/// process and its pools. Pages are rendered on the server; a little plain JavaScript uploads CSV files
/// with a progress bar and refreshes a batch's counters. Shuts down gracefully with its ServiceGroup.
public struct WebDashboard: Service {
    let server: APIServer
    let host: String
    let port: Int
    let onReady: @Sendable (Int) -> Void

    public init(server: APIServer, host: String, port: Int, onReady: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.server = server
        self.host = host
        self.port = port
        self.onReady = onReady
    }

    public func run() async throws {
        try await application().runService()
    }

    public func application() async throws -> some ApplicationProtocol {
        let configuration = server.configuration
        let onReady = self.onReady
        return Application(
            router: try await router(),
            server: .http1(configuration: .init(idleTimeout: .milliseconds(Int64(configuration.idleTimeoutMs)))),
            configuration: .init(address: .hostname(host, port: port), serverName: "batchsender-web"),
            onServerRunning: { channel in onReady(channel.localAddress?.port ?? 0) },
            logger: server.apiLogger.role("web"))
    }

    /// Every page and asset, behind the security headers, the error pages and the session.
    package func router() async throws -> Router<WebContext> {
        let renderer = try await PageRenderer.load()
        let assets = try Assets.load()
        let configuration = server.configuration
        let api = SignedInAPI(responder: server.signedInRouter().buildResponder())
        let router = Router(context: WebContext.self)
        // Outermost: error pages carry the headers too.
        router.middlewares.add(SecurityHeadersMiddleware())
        router.middlewares.add(WebErrorMiddleware(renderer: renderer))
        router.middlewares.add(SessionMiddleware(sessions: server.sessions, clients: ClientAddress(trustedProxies: configuration.trustedProxies,
                                                                                                    logger: server.apiLogger.role("web"))))
        assets.register(on: router)
        let throttle = LoginThrottle(limiter: server.limiter)
        AccountPages(renderer: renderer, accounts: server.accounts, sessions: server.sessions, threads: server.storageThreads, throttle: throttle).register(on: router)
        BatchPages(renderer: renderer, api: api).register(on: router)
        SendConfigPages(renderer: renderer, api: api, configuration: configuration).register(on: router)
        AnalyticsPage(renderer: renderer, api: api).register(on: router)
        APIKeyPages(renderer: renderer, api: api).register(on: router)
        SuppressionPages(renderer: renderer, api: api).register(on: router)
        TemplatePages(renderer: renderer, api: api).register(on: router)
        QueuePage(renderer: renderer, api: api).register(on: router)
        return router
    }
}
