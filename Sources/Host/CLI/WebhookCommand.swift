import App
import Analytics
import ArgumentParser
import Domain
import HostCore
import Messaging
import Persistence
import Services
import ProviderInstances

/// `batchsender webhooks orphans`: provider events whose message this platform never
/// found, kept after `[webhooks] orphan_after_ms` of retries for an operator to look at.
/// `batchsender webhooks dead-letters`: stored webhooks the processor could not apply;
/// `batchsender webhooks redrive`: hands them to the processor again (once what refused them is fixed).
struct WebhookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks", abstract: "Inspect webhook ingestion.", subcommands: [Orphans.self, DeadLetters.self, Redrive.self])

    struct Orphans: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the newest orphaned webhook events as JSON lines: provider, event id, send-config, message id, type, recipient, times.")
        @Option(help: "At most this many orphans.") var limit: Int = 100
        @Option(help: "The host config of the deployment (its [deployment] name, [nats] and [api] redis_key_prefix).") var config: String?

        func validate() throws {
            guard (1...100_000).contains(limit) else { throw ValidationError("--limit must be from 1 to 100000") }
        }

        func run() async throws {
            let resources = try OperatorResources.open(configPath: config)
            let orphans = try await OperatorResources.deadLetters(resources).webhookOrphans(limit: limit)
            try await resources.shutdown()
            for line in orphans { Output.line(line) }
        }
    }

    struct DeadLetters: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dead-letters",
            abstract: "Print the newest dead-lettered webhooks as JSON lines: id, provider, send-config, times, deliveries, reasons, size.")
        @Option(help: "At most this many dead letters.") var limit: Int = 100
        @Option(help: "The host config of the deployment (its [deployment] name, [nats] and [api] redis_key_prefix).") var config: String?

        func validate() throws {
            guard (1...100_000).contains(limit) else { throw ValidationError("--limit must be from 1 to 100000") }
        }

        func run() async throws {
            let resources = try OperatorResources.open(configPath: config)
            let letters = try await OperatorResources.deadLetters(resources).webhookDeadLetters(limit: limit)
            try await resources.shutdown()
            for line in letters { Output.line(line) }
        }
    }

    struct Redrive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Store dead-lettered webhooks in the webhooks stream again, oldest first, and remove their dead letters.")
        @Option(help: "At most this many dead letters.") var limit: Int = 1_000
        @Option(help: "Only this send-config's dead letters.") var sendConfig: String?
        @Option(help: "The host config of the deployment (its [deployment] name, [nats] and [api] redis_key_prefix).") var config: String?

        func validate() throws {
            guard (1...100_000).contains(limit) else { throw ValidationError("--limit must be from 1 to 100000") }
        }

        func run() async throws {
            let resources = try OperatorResources.open(configPath: config)
            let count = try await OperatorResources.deadLetters(resources).redriveWebhooks(limit: limit, sendConfigID: sendConfig)
            try await resources.shutdown()
            Output.line("re-drove \(count) dead-lettered webhooks")
        }
    }
}
