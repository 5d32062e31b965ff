import App
import ArgumentParser
import Foundation
import HostCore
import Logging
import ProviderSandbox

/// `batchsender sandbox`: the providers' documented APIs and signed webhooks on loopback.
struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Serve stand-ins for Resend, SES, Telnyx and a webhook receiver on loopback (docs/sandbox.md).")

    @Option(help: "The TCP port to listen on.")
    var port: Int = SandboxDefaults.port

    @Option(help: "The address to listen on.")
    var host: String = "127.0.0.1"

    @Option(name: .customLong("webhook-target"),
            help: "Base URL for delivery webhooks: events go to /webhooks/resend, /webhooks/ses and /webhooks/telnyx under it.")
    var webhookTarget: String?

    @Option(name: .customLong("webhook-url"),
            help: "PROVIDER=URL (repeatable): that provider's webhooks go to exactly URL, a BYOK config's own say; it wins over --webhook-target.")
    var webhookURLs: [String] = []

    @Option(help: "A TOML file of credentials, faults, outcome mix and receivers.")
    var config: String?

    @Option(help: "Seed for every random choice, so that a run in one order repeats exactly.")
    var seed: UInt64?

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = try logging.logger(label: "batchsender.sandbox")
        let configuration: SandboxConfiguration
        do {
            configuration = try config.map { path throws(HostConfigError) in try SandboxConfiguration.load(path: path) } ?? SandboxConfiguration()
        } catch {
            throw CommandFailure(error.description)
        }
        let server: SandboxServer
        do {
            server = try SandboxServer(configuration: configuration, host: host, port: port, webhookTarget: webhookTarget, webhookURLs: webhookURLs,
                                       seed: seed, logger: logger)
        } catch {
            throw CommandFailure(error.description)
        }
        let port = self.port, host = self.host
        try await server.run {
            // One line on stdout once the port accepts connections, for scripts that wait for it.
            Output.line("sandbox listening on http://\(host):\(port)")
        }
    }
}
