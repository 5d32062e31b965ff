import App
import ArgumentParser
import Foundation
import HostCore
import Logging
import ProviderModel

struct PluginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugin",
        abstract: "Load a provider plugin and call it, printing JSON (docs/cli.md).",
        subcommands: [Info.self, List.self, Prepare.self, Interpret.self, Verify.self, Parse.self, Send.self]
    )
}

/// The services a one-shot command gives a plugin: stderr logs, an optional pinned clock.
func commandServices(now: Int64?, fetcher: DocumentFetcher? = nil) -> HostServices {
    var logger = Logger(label: "batchsender.plugin")
    logger.logLevel = .warning
    return HostServices(logger: logger, nowMilliseconds: now.map { $0 * 1000 }, fetcher: fetcher)
}

extension PluginCommand {
    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a plugin's descriptor.")

        @Argument(help: "Plugin shared objects (.so); several are loaded into one process.")
        var plugins: [String]

        func run() throws {
            var registry = PluginRegistry()
            for path in plugins {
                let plugin = try CommandInput.plugin(path)
                do { try registry.register(plugin) } catch { throw CommandFailure(error.description) }
            }
            let documents = plugins.compactMap { path in registry.plugins.values.first { $0.path == path } }
                .map(OutputDocuments.descriptor)
            Output.json(documents.count == 1 ? documents[0] : .array(documents))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Load the plugins of a host config and print their descriptors.")

        @Option(name: .long, help: "The host config (TOML).")
        var config: String

        func run() throws {
            let hostConfig: HostConfig
            do { hostConfig = try HostConfig.load(path: config) } catch { throw CommandFailure(error.description) }
            var logger = Logger(label: "batchsender.plugins")
            logger.logLevel = .warning
            let registry: PluginRegistry
            do { registry = try PluginRegistry(loading: hostConfig.plugins, logger: logger) } catch {
                throw CommandFailure(error.description)
            }
            Output.json(JSONValue.array(registry.ids.compactMap { registry[$0] }.map(OutputDocuments.descriptor)))
        }
    }

    struct Prepare: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the HTTP request(s) a plugin builds for messages.")

        @Argument(help: "The plugin (.so).") var plugin: String
        @Option(help: "JSON object of the plugin's config keys.") var config: String
        @Option(help: "JSON array of normalised messages.") var messages: String
        @Option(help: "Pin the clock (Unix seconds).") var now: Int64?

        func run() throws {
            let loaded = try CommandInput.plugin(plugin)
            let batch = try CommandInput.messages(messages)
            let instance = try CommandInput.instance(loaded, config: config, services: commandServices(now: now))
            let prepared: PreparedSend
            do { prepared = try instance.prepare(batch) } catch { throw CommandFailure("prepare: \(error.description)") }
            Output.json(JSONValue.object([
                "requests": .array(prepared.requests.map(OutputDocuments.request)),
                "refused": .array(prepared.refused.map { OutputDocuments.outcome($0, messages: batch) }),
            ]))
        }
    }

    struct Interpret: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print one outcome per message for an HTTP response.")

        @Argument(help: "The plugin (.so).") var plugin: String
        @Option(help: "JSON object of the plugin's config keys.") var config: String
        @Option(help: "JSON array of the messages the request carried.") var messages: String
        @Option(help: "The HTTP status code of the response.") var status: Int
        @Option(help: "JSON object of response headers.") var headers: String?
        @Option(help: "File holding the response body.") var body: String

        func run() throws {
            guard (100...599).contains(status) else { throw CommandFailure("--status \(status): not an HTTP status (100-599)") }
            let loaded = try CommandInput.plugin(plugin)
            let batch = try CommandInput.messages(messages)
            let result = HTTPResult(status: status, headers: try CommandInput.headers(headers).map {
                KeyValue($0.name.lowercased(), $0.value)
            }, body: try CommandInput.bytes(body, option: "--body"))
            let instance = try CommandInput.instance(loaded, config: config, services: commandServices(now: nil))
            let outcomes: [SendOutcome]
            do { outcomes = try instance.interpret(result, for: batch) } catch {
                throw CommandFailure("interpret: \(error.description)")
            }
            Output.json(JSONValue.array(outcomes.map { OutputDocuments.outcome($0, messages: batch) }))
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify a webhook's signature: exit 0 when valid, 1 when not.")

        @Argument(help: "The plugin (.so).") var plugin: String
        @Option(help: "JSON object of the plugin's config keys.") var config: String
        @Option(help: "JSON object of the request headers.") var headers: String
        @Option(help: "File holding the request body, exactly as received.") var body: String
        @Option(help: "Pin the clock (Unix seconds).") var now: Int64?
        @Option(name: .customLong("fetch-allow"), help: "URL pattern the plugin may fetch (repeatable), e.g. https://sns.*.amazonaws.com/*")
        var fetchAllow: [String] = []

        func run() async throws {
            let loaded = try CommandInput.plugin(plugin)
            let request = InboundWebhook(headers: try CommandInput.headers(headers), body: try CommandInput.bytes(body, option: "--body"))
            let client = fetchAllow.isEmpty ? nil : CurlHTTPClient()
            defer { client?.shutdown() }
            let fetcher = client.map { DocumentFetcher(policy: FetchPolicy(allow: fetchAllow), client: $0) }
            let instance = try CommandInput.instance(loaded, config: config, services: commandServices(now: now, fetcher: fetcher))
            do {
                try await instance.verify(request)
                Output.json(JSONValue.object(["valid": .bool(true)]))
            } catch {
                Output.json(JSONValue.object([
                    "valid": .bool(false), "reason": .string(error.description), "status": .string(error.status.rawValue),
                ]))
                throw ExitCode(1)
            }
        }
    }

    struct Parse: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the normalised events in a webhook body.")

        @Argument(help: "The plugin (.so).") var plugin: String
        @Option(help: "JSON object of the plugin's config keys.") var config: String
        @Option(help: "JSON object of the request headers.") var headers: String?
        @Option(help: "File holding the request body.") var body: String

        func run() throws {
            let loaded = try CommandInput.plugin(plugin)
            let request = InboundWebhook(headers: try CommandInput.headers(headers), body: try CommandInput.bytes(body, option: "--body"))
            let instance = try CommandInput.instance(loaded, config: config, services: commandServices(now: nil))
            let events: [DeliveryEvent]
            do { events = try instance.parse(request) } catch { throw CommandFailure("parse: \(error.description)") }
            Output.json(JSONValue.array(events.map { $0.document(provider: loaded.id) }))
        }
    }

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Prepare, send with the host's HTTP client, interpret; print one outcome per message.")

        @Argument(help: "The plugin (.so).") var plugin: String
        @Option(help: "JSON object of the plugin's config keys.") var config: String
        @Option(help: "JSON array of normalised messages.") var messages: String
        @Option(help: "Total timeout per request, milliseconds.") var timeoutMs: Int = 30000

        func run() async throws {
            let loaded = try CommandInput.plugin(plugin)
            let batch = try CommandInput.messages(messages)
            let instance = try CommandInput.instance(loaded, config: config, services: commandServices(now: nil))
            let client = CurlHTTPClient(settings: HTTPClientSettings(timeoutMs: timeoutMs))
            defer { client.shutdown() }
            let outcomes: [SendOutcome]
            do { outcomes = try await Delivery(instance: instance, client: client).send(batch) } catch {
                throw CommandFailure("send: \(error.description)")
            }
            Output.json(JSONValue.array(outcomes.map { OutputDocuments.outcome($0, messages: batch) }))
        }
    }
}
