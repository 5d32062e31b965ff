import Analytics
import Domain
import HostCore
import Hummingbird
import Logging
import Messaging
import NIOPosix
import Persistence
import Prometheus
import Services
import ProviderCrypto
import ProviderInstances
import Templating

/// The sender API: one Hummingbird application over PostgreSQL and Redis
/// pools whose blocking calls run on storage threads of their own. It
/// migrates the schema on start-up and shuts down gracefully on SIGTERM/SIGINT.
public final class APIServer: Sendable {
    public let configuration: APIConfiguration
    let environment: HostEnvironment
    let logger: Logger
    let threads: NIOThreadPool
    let database: Database
    let redis: ConnectionPool<RedisConnection>
    let vault: CredentialVault
    /// Where the API counts its requests and what `/metrics` shows: the process's one registry (the roles'
    /// metrics go there through swift-metrics) unless a test gives the server one of its own.
    let registry: PrometheusCollectorRegistry
    let jobs: APIJetStream
    let analytics: AnalyticsStore?
    /// `/ready`'s probes, with their one NATS connection kept between them.
    let health: HealthService
    /// What `GET /api/openapi.json` serves.
    let document: [UInt8]

    public init(configuration: APIConfiguration, environment: HostEnvironment, logger: Logger,
                registry: PrometheusCollectorRegistry = PrometheusMetricsFactory.defaultRegistry) throws(APIStartError) {
        guard (0...65_535).contains(configuration.port) else { throw APIStartError("--port must be 0–65535 (0: any free port), not \(configuration.port)") }
        guard let document = OpenAPIDocument.bytes else {
            throw APIStartError("the OpenAPI document (openapi.json in the batchsender_SenderAPI.resources folder beside the executable) is missing; reinstall the build")
        }
        self.document = document
        let vault: CredentialVault
        do { vault = try CredentialVault(masterKey: environment.masterKey) } catch { throw APIStartError(error.description) }
        self.configuration = configuration
        self.environment = environment
        self.logger = logger.role("api")
        self.vault = vault
        self.registry = registry
        jobs = APIJetStream(natsURL: environment.natsURL, namespace: configuration.nats)
        do {
            analytics = try environment.clickhouseURL.map { AnalyticsStore(client: try ClickHouseClient(url: $0, http: CurlHTTPClient(), timeoutMs: 5_000,
                                                                                                   defaultDatabase: configuration.analyticsDatabase)) }
        } catch {
            throw APIStartError("\(error)")
        }
        // One thread per pooled connection, two for readiness probes and two for priority publishes.
        threads = NIOThreadPool(numberOfThreads: configuration.databaseConnections + configuration.redisConnections + 4)
        threads.start()
        let redisURL = environment.redisURL
        database = Database(url: environment.databaseURL, capacity: configuration.databaseConnections, threads: threads,
                            waitLimitMs: configuration.poolWaitMs, logger: logger)
        redis = StorePools.redis(url: redisURL, capacity: configuration.redisConnections, threads: threads, waitLimitMs: configuration.poolWaitMs)
        health = HealthService(database: database, redis: redis, natsURL: environment.natsURL, threads: threads)
    }

    /// Brings the schema up to date (idempotent; an advisory lock keeps concurrent hosts apart).
    public func migrate() async throws -> [Int] {
        try await SchemaService.migrate(database)
    }

    /// What the web dashboard shares with the server: its accounts and sessions over the server's pool, its
    /// request limits, its storage threads and its log.
    package var accounts: AccountService { AccountService(database: database) }
    package var sessions: SessionService { SessionService(database: database) }
    package var limiter: SlidingWindowLimiter {
        SlidingWindowLimiter(windows: RequestWindows(redis: redis, prefix: configuration.redisKeyPrefix), logger: logger)
    }
    package var storageThreads: NIOThreadPool { threads }
    package var apiLogger: Logger { logger }

    var limits: LimitService {
        LimitService(database: database, buckets: RateBuckets(redis: redis, keyPrefix: configuration.redisKeyPrefix,
                                                              limits: configuration.sendLimits))
    }
    var delivery: DeliveryState { DeliveryState(redis: redis, prefix: DeliveryState.prefix(for: configuration.redisKeyPrefix)) }

    /// Puts the operators' stored limit overrides back into Redis (after a Redis that lost its data, say),
    /// replacing what is there in one transaction so that no sender reads a half-written set.
    public func restoreLimits() async throws {
        try await limits.restore()
    }

    /// Every route, behind metrics and error mapping; `/api/*` behind rate limits and the API key.
    public func router() -> Router<APIContext> {
        let router = Router(context: APIContext.self)
        router.middlewares.add(MetricsMiddleware(registry: registry))
        let methods = RouteMethods()
        router.middlewares.add(ErrorMiddleware(routes: methods))
        router.middlewares.add(BodyTimeoutMiddleware(timeout: .milliseconds(configuration.bodyTimeoutMs)))
        HealthRoutes(health: health, registry: registry).register(on: router)
        let clients = ClientAddress(trustedProxies: configuration.trustedProxies)
        // Only the key matters here: links sent under any base URL (or before the links were turned off) still answer.
        let links = UnsubscribeLinks(baseURL: configuration.unsubscribe.baseURL ?? "", mailto: nil, masterKey: environment.masterKey)
        UnsubscribeRoutes(unsubscribe: UnsubscribeService(database: database, links: links))
            .register(on: router.group().add(middleware: RateLimitMiddleware(limiter: limiter, scope: .address, settings: configuration.rateLimit,
                                                                              clients: clients)))
        let api = router.group("api")
            .add(middleware: RateLimitMiddleware(limiter: limiter, scope: .address, settings: configuration.rateLimit, clients: clients))
            .add(middleware: AuthMiddleware(keys: APIKeyService(database: database)))
            .add(middleware: RateLimitMiddleware(limiter: limiter, scope: .apiKey, settings: configuration.rateLimit, clients: clients))
        OpenAPIRoute(document: document).register(on: api)
        registerUserRoutes(on: api)
        let admin = router.group("admin").add(middleware: AdminAuthMiddleware(token: configuration.adminToken))
        AdminLimitRoutes(limits: limits, providers: Set(configuration.providers.keys)).register(on: admin)
        QueueRoutes(queue: queue).registerAdmin(on: admin)
        methods.load(router.routes.map { ($0.method.rawValue, $0.path.description) })
        return router
    }

    /// The user routes of `/api` for a caller who is known already: no key is read and no rate limit applies
    /// (the caller does both). The web dashboard signs its users in with a session and asks these routes in
    /// process, so that what a page shows or refuses is exactly what the API would.
    public func signedInRouter() -> Router<APIContext> {
        let router = Router(context: APIContext.self)
        let methods = RouteMethods()
        router.middlewares.add(ErrorMiddleware(routes: methods))
        router.middlewares.add(BodyTimeoutMiddleware(timeout: .milliseconds(configuration.bodyTimeoutMs)))
        registerUserRoutes(on: router.group("api"))
        methods.load(router.routes.map { ($0.method.rawValue, $0.path.description) })
        return router
    }

    private var queue: QueueService {
        QueueService(database: database, delivery: delivery, jetStream: jobs, threads: threads)
    }

    private func registerUserRoutes(on api: RouterGroup<APIContext>) {
        let recipients = RecipientService(database: database, maxRecipients: configuration.maxRecipientsPerBatch)
        let upload = RecipientUpload(maxRecipients: configuration.maxRecipientsPerBatch, bodyTimeout: .milliseconds(configuration.bodyTimeoutMs))
        APIKeyRoutes(keys: APIKeyService(database: database)).register(on: api)
        SendConfigRoutes(configs: SendConfigService(database: database, vault: vault), configuration: configuration).register(on: api)
        BatchRoutes(batches: BatchService(database: database, recipients: recipients, delivery: delivery, jobs: jobs, threads: threads),
                    upload: upload).register(on: api)
        RecipientRoutes(recipients: recipients, upload: upload).register(on: api)
        SuppressionRoutes(suppressions: SuppressionService(database: database)).register(on: api)
        TemplateRoutes(templates: TemplateService(database: database)).register(on: api)
        AttachmentRoutes(attachments: AttachmentService(database: database)).register(on: api)
        AnalyticsRoutes(analytics: AnalyticsService(database: database, store: analytics, logger: logger)).register(on: api)
        MessageRoutes(messages: MessageService(database: database, delivery: delivery, queue: jobs, threads: threads, logger: logger))
            .register(on: api)
        QueueRoutes(queue: queue).register(on: api)
    }

    public func application(onReady: @escaping @Sendable () -> Void = {}) -> some ApplicationProtocol {
        Application(
            router: router(),
            server: .http1(configuration: .init(additionalChannelHandlers: [FramingErrorHandler()],
                                                idleTimeout: .milliseconds(Int64(configuration.idleTimeoutMs)))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "batchsender"),
            onServerRunning: { _ in onReady() },
            logger: logger)
    }

    /// Migrates, then serves until SIGTERM or SIGINT; requests in flight finish first.
    public func run(onReady: @escaping @Sendable () -> Void = {}) async throws {
        let applied = try await migrate()
        if !applied.isEmpty { logger.info("migrations applied", metadata: ["versions": "\(applied)"]) }
        try await application(onReady: onReady).runService(gracefulShutdownSignals: [.sigterm, .sigint])
        try await shutdown()
    }

    /// Stops the storage threads; call once, after the last request.
    public func shutdown() async throws {
        try await threads.shutdownGracefully()
    }
}

public struct APIStartError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
