import Domain
import Background
import Discoverer
import Foundation
import HostCore
import Logging
import Messaging
import Metrics
import Persistence
import Processor
import Prometheus
import Services
import ProviderInstances
import Receiver
import Sender
import SenderAPI
import ServiceLifecycle
import WebDashboard
import WebhookProcessor
import Analytics

/// The composition root: what one `batchsender serve` process builds once (the host config, the plugins,
/// the pools and clients) and which role gets which of it, each role a service under one ServiceGroup that
/// drains on SIGTERM or SIGINT.
public struct HostProcess {
    public struct Options: Sendable {
        public var configPath: String?
        public var host: String
        public var port: Int
        public var opsPort: Int?
        public var webPort: Int
        public var roles: [Role]

        public init(configPath: String?, host: String, port: Int, opsPort: Int?, webPort: Int, roles: [Role]) {
            self.configPath = configPath
            self.host = host
            self.port = port
            self.opsPort = opsPort
            self.webPort = webPort
            self.roles = roles
        }
    }

    let options: Options
    let logger: Logger
    let clock: any WallClock = .system

    public init(options: Options, logger: Logger) {
        self.options = options
        self.logger = logger
    }

    public func run() async throws {
        // Every role's metrics go to the process's one registry, which /metrics and /api/metrics show.
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: PrometheusMetricsFactory.defaultRegistry))
        let chosen = options.roles
        let processEnvironment = ProcessInfo.processInfo.environment
        let environment: HostEnvironment
        do { environment = try HostEnvironment(processEnvironment) } catch { throw CommandFailure(error.description) }
        let hostConfig = try loadConfig()
        let registry: PluginRegistry
        do { registry = try PluginRegistry(loading: hostConfig.plugins, logger: logger) } catch { throw CommandFailure(error.description) }
        var configuration = APIConfiguration()
        configuration.apply(hostConfig.api)
        configuration.apply(hostConfig.deployment, nats: hostConfig.nats)
        configuration.outbound = hostConfig.outbound
        configuration.host = options.host
        configuration.port = options.port
        configuration.providers = registry.plugins.mapValues(\.descriptor)
        configuration.plugins = registry.plugins
        configuration.webhookBaseURL = hostConfig.webhooks.publicURL
        configuration.unsubscribe = hostConfig.unsubscribe
        // One fetch service (one cache) for the plugins' certificates and the receiver's subscription confirmations.
        let fetcher = DocumentFetcher(policy: hostConfig.fetch, http: hostConfig.http, outbound: hostConfig.outbound)
        let pluginServices = HostServices(logger: logger, fetcher: fetcher)
        let managed: ManagedInstances
        do {
            managed = try ManagedInstances(plugins: registry, accounts: hostConfig.managed, environment: processEnvironment, services: pluginServices)
        } catch {
            throw CommandFailure("serve: \(error)")
        }
        configuration.managedProviders = managed.providers
        var limits = hostConfig.limits
        limits.providerDefaults = registry.declaredRates
        configuration.sendLimits = limits
        do { configuration.adminToken = try hostConfig.admin.resolvedToken(environment: processEnvironment) } catch {
            throw CommandFailure("serve: \(error)")
        }
        logger.info("plugins loaded", metadata: ["providers": "\(registry.ids.joined(separator: ", "))",
                                                 "roles": "\(chosen.map(\.rawValue).joined(separator: ","))"])

        // The API also migrates the schema; the pipeline roles need it too, so it runs first whichever roles run.
        let server: APIServer
        do { server = try APIServer(configuration: configuration, environment: environment, logger: logger) } catch {
            throw CommandFailure(error.description)
        }
        do {
            let applied = try await server.migrate()
            if !applied.isEmpty { logger.info("migrations applied", metadata: ["versions": "\(applied)"]) }
        } catch {
            throw CommandFailure("serve: the database is not ready: \(error)")
        }
        if chosen.contains(.api) {
            do { try await server.restoreLimits() } catch { throw CommandFailure("serve: the operators' limits cannot be put back into Redis: \(error)") }
        }

        let analyticsClient = try environment.clickhouseURL.map { url in
            do { return try ClickHouseClient(url: url, http: CurlHTTPClient(settings: hostConfig.http), timeoutMs: hostConfig.analytics.insertTimeoutMs,
                                       defaultDatabase: hostConfig.deployment.analyticsDatabase) } catch {
                throw CommandFailure("serve: \(error)")
            }
        }
        var resources: ProcessResources?
        if chosen.contains(where: { $0 != .api }) {
            do {
                resources = try ProcessResources(databaseURL: environment.databaseURL, redisURL: environment.redisURL,
                                                 natsURL: environment.natsURL, nats: configuration.nats, masterKey: environment.masterKey,
                                                 redisPrefix: configuration.redisKeyPrefix, plugins: registry,
                                                 settings: hostConfig.pipeline,
                                                 webhookLanes: chosen.contains(.webhookProcessor) ? hostConfig.webhooks.processorLanes : 0,
                                                 managed: managed, limits: limits, analytics: hostConfig.analytics,
                                                 clickhouse: analyticsClient, logger: logger)
            } catch {
                throw CommandFailure("serve: the pipeline cannot start: \(error)")
            }
        }
        var services: [any Service] = []
        // First in the group, so shut down last: the roles' last events are in its buffer when it drains.
        if let resources { services += [resources.events, QueueDepthMonitor(bus: resources.bus, clock: clock, logger: logger)] }
        let host = options.host, port = options.port
        for role in Role.allCases where chosen.contains(role) {
            switch role {
            case .api: services.append(server.application { Output.line("api listening on http://\(host):\(port)") })
            case .web:
                guard (0...65_535).contains(options.webPort) else { throw CommandFailure("--web-port must be 0–65535, not \(options.webPort)") }
                services.append(WebDashboard(server: server, host: host, port: options.webPort) { port in
                    Output.line("web dashboard listening on http://\(host):\(port)")
                })
            case .receiver:
                services.append(try receiver(resources!, hostConfig: hostConfig, environment: environment, services: pluginServices, fetcher: fetcher))
            default:
                let unsubscribe = hostConfig.unsubscribe.activeBaseURL.map {
                    UnsubscribeLinks(baseURL: $0, mailto: hostConfig.unsubscribe.mailto, masterKey: environment.masterKey)
                }
                if role == .sender, unsubscribe == nil, hostConfig.unsubscribe.enabled {
                    logger.warning("bulk email goes out without one-click unsubscribe links: set [unsubscribe] base_url to the public https URL of the API")
                }
                services.append(pipelineRole(role, resources!, hostConfig: hostConfig, services: pluginServices, unsubscribe: unsubscribe))
            }
        }
        if let opsPort = options.opsPort {
            // Opt-in: a process's --port is the API's, and two processes on one host (api, receiver) must not both take it.
            guard (0...65_535).contains(opsPort) else { throw CommandFailure("--ops-port must be 0–65535, not \(opsPort)") }
            services.append(OpsServer(host: host, port: opsPort, deadlineMs: hostConfig.webhooks.requestTimeoutMs, logger: logger) { port in
                Output.line("ops listening on http://\(host):\(port) (GET /metrics)")
            })
        }
        if !chosen.contains(.api) { Output.line("roles running: \(chosen.map(\.rawValue).joined(separator: ","))") }
        let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) },
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            throw CommandFailure("serve: \(error)", exitCode: 1)
        }
        try await resources?.shutdown()
        try await server.shutdown()
    }

    /// A delivery role, given only what it uses.
    func pipelineRole(_ role: Role, _ r: ProcessResources, hostConfig: HostConfig, services: HostServices,
                      unsubscribe: UnsubscribeLinks?) -> any Service {
        let settings = r.settings
        let tenants = TenantQueues(registry: r.tenants, bus: r.bus, ackWaitMs: settings.ackWaitMs, clock: clock)
        switch role {
        case .discoverer:
            return BatchDiscoverer(batches: r.ledger, active: r.hot, publisher: r.bus, leadership: r.lease("discoverer"), clock: clock,
                                   intervalMs: settings.discoverIntervalMs, logger: r.logger)
        case .processor:
            return BatchProcessor(jobs: ConsumerLoop(bus: r.bus, definition: Streams.batchConsumer, clock: clock, logger: r.logger.role("processor"),
                                                     what: "batch processor"),
                                  bus: r.bus, books: r.ledger, state: r.hot, instances: r.sendConfigInstances(services: HostServices(logger: r.logger)),
                                  tenants: tenants, events: r.events, clock: clock, settings: settings, logger: r.logger)
        case .sender:
            var http = hostConfig.http
            http.timeoutMs = settings.httpTimeoutMs
            // Single messages need few connections: theirs add a few per provider host to the bulk's.
            var priorityHTTP = http
            priorityHTTP.maxConnectionsPerHost = min(SenderWorkers.priorityConnectionsPerHost, http.maxConnectionsPerHost)
            return SenderWorkers(bus: r.bus, claims: r.hot, buckets: r.buckets, routes: r.sendConfigInstances(services: HostServices(logger: r.logger)),
                                 books: r.ledger, tenants: r.tenants, announcer: tenants, events: r.events,
                                 client: CurlHTTPClient(settings: http, policy: hostConfig.outbound),
                                 priorityClient: CurlHTTPClient(settings: priorityHTTP, policy: hostConfig.outbound),
                                 maxConnectionsPerHost: http.maxConnectionsPerHost,
                                 providers: r.plugins.ids, clock: clock, settings: settings,
                                 unsubscribe: unsubscribe, attachments: r.ledger, history: r.ledger,
                                 logger: r.logger)
        case .background:
            let repair = HotStateRepairs(delivery: r.hot, ledger: r.ledger, limits: LimitService(database: Database(pool: r.database, logger: r.logger),
                                                                                                  buckets: r.buckets), tenants: tenants)
            return BackgroundJobs(books: r.ledger, hot: r.hot, repair: repair, tenants: tenants, deadLetters: WebhookDeadLetters(database: r.database),
                                  publisher: r.bus, leadership: r.lease("background"), clock: clock, settings: settings, logger: r.logger)
        case .webhookProcessor:
            // The processor's config reads apart from the receiver's: a stranger's flood of ids at the receiver
            // (its own small pool, "no such config" remembered) never holds back the processor's rounds.
            let instances = WebhookInstances(plugins: r.plugins, managed: r.managed, configs: r.webhookProcessorConfigInstances(services: services))
            return WebhookEventProcessor(rounds: ConsumerLoop(bus: r.bus, definition: Streams.webhookConsumer, clock: clock,
                                                              logger: r.logger.role("webhook-processor"), what: "webhook processor"),
                                         bus: r.bus, settings: hostConfig.webhooks, instances: instances, ledger: WebhookLedger(database: r.database),
                                         deadLetters: WebhookDeadLetters(database: r.database), memory: r.memory, events: r.events,
                                         providers: r.plugins.ids, clock: clock, logger: r.logger)
        case .api, .web, .receiver:
            preconditionFailure("\(role) is not a pipeline role")
        }
    }

    func receiver(_ r: ProcessResources, hostConfig: HostConfig, environment: HostEnvironment, services: HostServices,
                  fetcher: DocumentFetcher) throws -> any Service {
        let settings = hostConfig.webhooks
        let jetStream: JetStream
        do {
            // Never stalled by libnats's own window: the receiver refuses past pending_limit first.
            jetStream = try JetStream(url: environment.natsURL, namespace: r.bus.jetStream.namespace, maxPending: Int64(settings.pendingLimit) + 1_024)
        } catch {
            throw CommandFailure("serve: the receiver cannot reach NATS: \(error)")
        }
        let instances = WebhookInstances(plugins: r.plugins, managed: r.managed, configs: r.webhookConfigInstances(services: services))
        return WebhookReceiver(settings: settings, instances: instances, jetStream: jetStream, fetcher: fetcher, logger: logger) { port in
            Output.line("receiver listening on http://\(settings.host):\(port)")
        }
    }

    /// The host config `--config` names, or one that loads every provider plugin beside this executable.
    func loadConfig() throws -> HostConfig {
        guard let path = options.configPath else {
            // A local run: the unsubscribe links point at this process's own API.
            var local = HostConfig(plugins: BundledPlugins.paths().map { PluginEntry(path: $0, required: false) })
            local.unsubscribe.baseURL = "http://127.0.0.1:\(options.port)"
            return local
        }
        do { return try HostConfig.load(path: path) } catch { throw CommandFailure(error.description) }
    }
}
