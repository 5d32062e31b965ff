import App
import Analytics
import ArgumentParser
import Background
import Discoverer
import Domain
import Foundation
import HostCore
import Logging
import Messaging
import Metrics
import Persistence
import Pipeline
import Processor
import Prometheus
import ProviderInstances
import ProviderModel
import Receiver
import Sender
import SenderAPI
import ServiceLifecycle
import Templating
import WebDashboard
import WebhookProcessor

/// `batchsender serve`: the sender API and the delivery roles, each a service
/// under one ServiceGroup that drains on SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run BatchSender's roles: the sender API (port 6001), the delivery pipeline, the webhook receiver (port 6002) and processor, the web dashboard (port 3000).",
        discussion: """
            Roles: api, discoverer, processor, sender, background, receiver (webhooks, port 6002), webhook-processor, \
            web (the dashboard, --web-port, default 3000) (default: all). Run them together, or apart in \
            several processes against the same servers; the discoverer and background roles elect a leader among \
            their processes. The public webhook port never serves /metrics: the api role serves it on --port, and \
            --ops-port N (opt-in, any roles) serves GET /metrics and GET /health on a port of its own, for a \
            process without the api role. Needs DATABASE_URL, REDIS_URL, NATS_URL and BATCHSENDER_MASTER_KEY (.env.dev has them).
            """)

    @Option(help: "The host config (TOML): its plugins, [api] limits and [pipeline] settings; default: every provider plugin beside this executable.")
    var config: String?

    @Option(help: "The address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "The TCP port to listen on.")
    var port: Int = 6001

    @Option(help: "A TCP port for the operator's scraper: GET /metrics and GET /health (for a process without the api role; none when not given).")
    var opsPort: Int?

    @Option(help: "The TCP port the web dashboard (role web) listens on.")
    var webPort: Int = 3000

    @Option(help: "Comma-separated roles to run: \(Role.allCases.map(\.rawValue).joined(separator: ", ")).")
    var roles: String = Role.allCases.map(\.rawValue).joined(separator: ",")

    @OptionGroup var logging: LoggingOptions

    enum Role: String, CaseIterable {
        case api, discoverer, processor, sender, background, receiver
        case webhookProcessor = "webhook-processor"
        case web
    }

    func run() async throws {
        let logger = try logging.logger(label: "batchsender")
        // Every role's metrics go to the process's one registry, which /metrics and /api/metrics show.
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: PrometheusMetricsFactory.defaultRegistry))
        let chosen = try parseRoles()
        let environment: HostEnvironment
        do { environment = try HostEnvironment(ProcessInfo.processInfo.environment) } catch { throw CommandFailure(error.description) }
        let hostConfig = try loadConfig()
        let registry: PluginRegistry
        do { registry = try PluginRegistry(loading: hostConfig.plugins, logger: logger) } catch { throw CommandFailure(error.description) }
        var configuration = APIConfiguration()
        configuration.apply(hostConfig.api)
        configuration.outbound = hostConfig.outbound
        configuration.host = host
        configuration.port = port
        configuration.providers = registry.plugins.mapValues(\.descriptor)
        configuration.plugins = registry.plugins
        configuration.webhookBaseURL = hostConfig.webhooks.publicURL
        // One fetch service (one cache) for the plugins' certificates and the receiver's subscription confirmations.
        let fetcher = DocumentFetcher(policy: hostConfig.fetch, http: hostConfig.http, outbound: hostConfig.outbound)
        let pluginServices = HostServices(logger: logger, fetcher: fetcher)
        let managed: ManagedInstances
        do {
            managed = try ManagedInstances(plugins: registry, accounts: hostConfig.managed, environment: ProcessInfo.processInfo.environment,
                                           services: pluginServices)
        } catch {
            throw CommandFailure("serve: \(error)")
        }
        configuration.managedProviders = managed.providers
        configuration.sendLimits = hostConfig.limits
        do { configuration.adminToken = try hostConfig.admin.resolvedToken(environment: ProcessInfo.processInfo.environment) } catch {
            throw CommandFailure("serve: \(error)")
        }
        logger.info("plugins loaded", metadata: ["providers": "\(registry.ids.joined(separator: ", "))", "roles": "\(roles)"])

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

        var services: [any Service] = []
        var resources: PipelineResources?
        let analyticsClient = try environment.clickhouseURL.map { url in
            do { return try ClickHouseClient(url: url, http: CurlHTTPClient(settings: hostConfig.http),
                                             timeoutMs: hostConfig.analytics.insertTimeoutMs) } catch {
                throw CommandFailure("serve: \(error)")
            }
        }
        if chosen.contains(where: { $0 != .api }) {
            do {
                resources = try PipelineResources(databaseURL: environment.databaseURL, redisURL: environment.redisURL,
                                                  natsURL: environment.natsURL, masterKey: environment.masterKey,
                                                  redisPrefix: configuration.redisKeyPrefix, plugins: registry,
                                                  settings: hostConfig.pipeline, webhookLanes: hostConfig.webhooks.processorLanes,
                                                  managed: managed, limits: hostConfig.limits, analytics: hostConfig.analytics,
                                                  clickhouse: analyticsClient, logger: logger)
            } catch {
                throw CommandFailure("serve: the pipeline cannot start: \(error)")
            }
        }
        // The receiver's and the processor's config reads apart: a stranger's flood of ids at the receiver
        // (its own small pool, "no such config" remembered) never holds back the processor's rounds.
        var webhookInstances: WebhookInstances?
        var processorInstances: WebhookInstances?
        if let resources, chosen.contains(.receiver) {
            webhookInstances = WebhookInstances(plugins: registry, managed: managed,
                                                configs: resources.webhookConfigInstances(services: pluginServices))
        }
        if let resources, chosen.contains(.webhookProcessor) {
            processorInstances = WebhookInstances(plugins: registry, managed: managed,
                                                  configs: resources.webhookProcessorConfigInstances(services: pluginServices))
        }
        let host = self.host, port = self.port
        // First in the group, so shut down last: the roles' last events are in its buffer when it drains.
        if let resources { services += [resources.events, QueueDepthMonitor(resources: resources)] }
        for role in Role.allCases where chosen.contains(role) {
            switch role {
            case .api: services.append(server.application { Output.line("api listening on http://\(host):\(port)") })
            case .discoverer: services.append(BatchDiscoverer(resources: resources!))
            case .processor: services.append(BatchProcessor(resources: resources!))
            case .sender: services.append(SenderWorkers(resources: resources!, http: hostConfig.http, outbound: hostConfig.outbound))
            case .background: services.append(BackgroundJobs(resources: resources!))
            case .receiver:
                let settings = hostConfig.webhooks
                let jetStream: JetStream
                do {
                    // Never stalled by libnats's own window: the receiver refuses past pending_limit first.
                    jetStream = try JetStream(url: environment.natsURL, maxPending: Int64(settings.pendingLimit) + 1_024)
                } catch {
                    throw CommandFailure("serve: the receiver cannot reach NATS: \(error)")
                }
                services.append(WebhookReceiver(settings: settings, instances: webhookInstances!, jetStream: jetStream, fetcher: fetcher,
                                                logger: logger) { port in Output.line("receiver listening on http://\(settings.host):\(port)") })
            case .webhookProcessor:
                services.append(WebhookEventProcessor(resources: resources!, settings: hostConfig.webhooks, instances: processorInstances!))
            case .web:
                guard (0...65_535).contains(webPort) else { throw ValidationError("--web-port must be 0–65535, not \(webPort)") }
                services.append(WebDashboard(server: server, host: host, port: webPort) { port in
                    Output.line("web dashboard listening on http://\(host):\(port)")
                })
            }
        }
        if let opsPort {
            // Opt-in: a process's --port is the API's, and two processes on one host (api, receiver) must not both take it.
            guard (0...65_535).contains(opsPort) else { throw ValidationError("--ops-port must be 0–65535, not \(opsPort)") }
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

    private func parseRoles() throws -> [Role] {
        var chosen: [Role] = []
        for name in roles.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let role = Role(rawValue: name) else {
                throw ValidationError("--roles: unknown role \"\(name)\"; the roles are \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if !chosen.contains(role) { chosen.append(role) }
        }
        guard !chosen.isEmpty else { throw ValidationError("--roles: name at least one role") }
        return chosen
    }

    /// The host config `--config` names, or one that loads every provider plugin beside this executable.
    private func loadConfig() throws -> HostConfig {
        guard let config else { return HostConfig(plugins: BundledPlugins.paths().map { PluginEntry(path: $0, required: false) }) }
        do { return try HostConfig.load(path: config) } catch { throw CommandFailure(error.description) }
    }
}
