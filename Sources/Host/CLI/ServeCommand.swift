import App
import ArgumentParser

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

    @Option(help: "Comma-separated roles to run: \(Role.names).")
    var roles: String = Role.allCases.map(\.rawValue).joined(separator: ",")

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (0...65_535).contains(webPort) else { throw ValidationError("--web-port must be 0–65535, not \(webPort)") }
        if let opsPort, !(0...65_535).contains(opsPort) { throw ValidationError("--ops-port must be 0–65535, not \(opsPort)") }
    }

    func run() async throws {
        let chosen: [Role]
        do { chosen = try Role.parse(roles) } catch { throw ValidationError("--roles: \(error)") }
        let options = HostProcess.Options(configPath: config, host: host, port: port, opsPort: opsPort, webPort: webPort, roles: chosen)
        try await HostProcess(options: options, logger: try logging.logger(label: "batchsender")).run()
    }
}
