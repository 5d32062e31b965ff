import ArgumentParser
import Foundation
import HostCore
import Logging
import ProviderModel
import SenderAPI

/// `batchsender serve`: the sender API on port 6001.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the sender API (send-configs, batches, recipients, API keys, suppressions) on port 6001.",
        discussion: "Needs DATABASE_URL, REDIS_URL, NATS_URL and BATCHSENDER_MASTER_KEY (.env.dev has them for the local stack).")

    @Option(help: "The host config (TOML): its plugins and [api] limits; default: every provider plugin beside this executable.")
    var config: String?

    @Option(help: "The address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "The TCP port to listen on.")
    var port: Int = 6001

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = try logging.logger(label: "batchsender.api")
        let environment: HostEnvironment
        do { environment = try HostEnvironment(ProcessInfo.processInfo.environment) } catch { throw CommandFailure(error.description) }
        let hostConfig = try loadConfig()
        let registry: PluginRegistry
        do { registry = try PluginRegistry(loading: hostConfig.plugins, logger: logger) } catch { throw CommandFailure(error.description) }
        var configuration = APIConfiguration()
        configuration.apply(hostConfig.api)
        configuration.host = host
        configuration.port = port
        configuration.providers = registry.plugins.mapValues(\.descriptor)
        logger.info("plugins loaded", metadata: ["providers": "\(registry.ids.joined(separator: ", "))"])
        let server: APIServer
        do { server = try APIServer(configuration: configuration, environment: environment, logger: logger) } catch {
            throw CommandFailure(error.description)
        }
        let host = self.host, port = self.port
        do {
            try await server.run { Output.line("api listening on http://\(host):\(port)") }
        } catch {
            throw CommandFailure("serve: \(error)", exitCode: 1)
        }
    }

    /// The host config `--config` names, or one that loads every provider plugin beside this executable.
    private func loadConfig() throws -> HostConfig {
        guard let config else { return HostConfig(plugins: Self.bundledPlugins().map { PluginEntry(path: $0, required: false) }) }
        do { return try HostConfig.load(path: config) } catch { throw CommandFailure(error.description) }
    }

    /// The provider plugins the build put beside this executable.
    static func bundledPlugins() -> [String] {
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasPrefix("lib") && $0.hasSuffix("Provider.so") && !$0.contains("EchoC") }.sorted()
            .map { folder.appendingPathComponent($0).path }
    }
}
