import Analytics
import Domain
import HostCore
import Hummingbird
import Logging
import Messaging
import NIOPosix
import Persistence
import Prometheus
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
    let priorityQueue: PriorityPublisher
    let analytics: AnalyticsStore?
    /// `/ready`'s one NATS connection, kept between probes.
    let readinessNATS: ReadinessNATS
    /// What `GET /api/openapi.json` serves.
    let document: [UInt8]

    public init(configuration: APIConfiguration, environment: HostEnvironment, logger: Logger,
                registry: PrometheusCollectorRegistry = PrometheusMetricsFactory.defaultRegistry) throws(APIStartError) {
        guard (0...65_535).contains(configuration.port) else { throw APIStartError("--port must be 0–65535 (0: any free port), not \(configuration.port)") }
        guard let document = OpenAPIDocument.bytes else {
            throw APIStartError("the OpenAPI document (openapi.json in the batchsender_SenderAPI.resources folder beside the executable) is missing; reinstall the build")
        }
        self.document = document
        guard let vault = CredentialVault(masterKey: environment.masterKey) else {
            throw APIStartError("BATCHSENDER_MASTER_KEY must be 32 bytes")
        }
        self.configuration = configuration
        self.environment = environment
        self.logger = logger.role("api")
        self.vault = vault
        self.registry = registry
        priorityQueue = PriorityPublisher(natsURL: environment.natsURL)
        readinessNATS = ReadinessNATS(url: environment.natsURL)
        do {
            analytics = try environment.clickhouseURL.map { AnalyticsStore(client: try ClickHouseClient(url: $0, http: CurlHTTPClient(), timeoutMs: 5_000)) }
        } catch {
            throw APIStartError("\(error)")
        }
        // One thread per pooled connection, two for readiness probes and two for priority publishes.
        threads = NIOThreadPool(numberOfThreads: configuration.databaseConnections + configuration.redisConnections + 4)
        threads.start()
        let databaseURL = environment.databaseURL, redisURL = environment.redisURL
        database = Database(
            pool: ConnectionPool(capacity: configuration.databaseConnections, threads: threads, waitLimitMs: configuration.poolWaitMs,
                                 isHealthy: { $0.isHealthy }) {
                let connection = try PostgresConnection(url: databaseURL)
                try connection.execute("SET TIME ZONE 'UTC'")
                return connection
            },
            logger: logger)
        redis = ConnectionPool(capacity: configuration.redisConnections, threads: threads, waitLimitMs: configuration.poolWaitMs,
                               isHealthy: { $0.isHealthy }) {
            try RedisConnection(url: redisURL)
        }
    }

    /// Brings the schema up to date (idempotent; an advisory lock keeps concurrent hosts apart).
    public func migrate() async throws -> [Int] {
        try await database.pool.withConnection { db in try Migrator().migrate(db) }
    }

    /// The server's PostgreSQL pool, Redis pool and storage threads, which the web dashboard shares.
    package var postgres: ConnectionPool<PostgresConnection> { database.pool }
    package var redisPool: ConnectionPool<RedisConnection> { redis }
    package var storageThreads: NIOThreadPool { threads }
    package var apiLogger: Logger { logger }

    var buckets: RateBuckets { RateBuckets(redis: redis, keyPrefix: configuration.redisKeyPrefix, limits: configuration.sendLimits) }

    /// Puts the operators' stored limit overrides back into Redis (after a Redis that lost its data, say),
    /// replacing what is there in one transaction so that no sender reads a half-written set.
    public func restoreLimits() async throws {
        let stored = try await database.pool.withConnection { db in
            try db.query("SELECT field, per_second::text FROM rate_limit_overrides").map { ($0[0] ?? "", $0[1] ?? "") }
        }
        let key = buckets.overridesKey
        var commands: [[String]] = [["MULTI"], ["DEL", key]]
        if !stored.isEmpty { commands.append(["HSET", key] + stored.flatMap { [$0.0, $0.1] }) }
        commands.append(["EXEC"])
        let transaction = commands
        _ = try await redis.withConnection { redis in try redis.pipeline(transaction) }
    }

    /// Every route, behind metrics and error mapping; `/api/*` behind rate limits and the API key.
    public func router() -> Router<APIContext> {
        let router = Router(context: APIContext.self)
        router.middlewares.add(MetricsMiddleware(registry: registry))
        let methods = RouteMethods()
        router.middlewares.add(ErrorMiddleware(routes: methods))
        router.middlewares.add(BodyTimeoutMiddleware(timeout: .milliseconds(configuration.bodyTimeoutMs)))
        HealthRoutes(database: database, redis: redis, nats: readinessNATS, threads: threads, registry: registry)
            .register(on: router)
        let limiter = SlidingWindowLimiter(pool: redis, logger: logger)
        let clients = ClientAddress(trustedProxies: configuration.trustedProxies)
        let api = router.group("api")
            .add(middleware: RateLimitMiddleware(limiter: limiter, scope: .address, settings: configuration.rateLimit,
                                                keyPrefix: configuration.redisKeyPrefix, clients: clients))
            .add(middleware: AuthMiddleware(database: database))
            .add(middleware: RateLimitMiddleware(limiter: limiter, scope: .apiKey, settings: configuration.rateLimit,
                                                keyPrefix: configuration.redisKeyPrefix, clients: clients))
        OpenAPIRoute(document: document).register(on: api)
        registerUserRoutes(on: api)
        let admin = router.group("admin").add(middleware: AdminAuthMiddleware(token: configuration.adminToken))
        AdminLimitRoutes(database: database, buckets: buckets, providers: Set(configuration.providers.keys)).register(on: admin)
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

    private func registerUserRoutes(on api: RouterGroup<APIContext>) {
        let upload = RecipientUpload(database: database, maxRecipients: configuration.maxRecipientsPerBatch,
                                     bodyTimeout: .milliseconds(configuration.bodyTimeoutMs))
        APIKeyRoutes(database: database).register(on: api)
        SendConfigRoutes(database: database, vault: vault, configuration: configuration).register(on: api)
        BatchRoutes(database: database, upload: upload, hot: DeliveryState(redis: redis, prefix: DeliveryState.prefix(for: configuration.redisKeyPrefix)))
            .register(on: api)
        RecipientRoutes(database: database, upload: upload).register(on: api)
        SuppressionRoutes(database: database).register(on: api)
        AnalyticsRoutes(database: database, store: analytics).register(on: api)
        MessageRoutes(database: database, hot: DeliveryState(redis: redis, prefix: DeliveryState.prefix(for: configuration.redisKeyPrefix)),
                      queue: priorityQueue, threads: threads, logger: logger).register(on: api)
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
