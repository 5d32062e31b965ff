import HostCore
import Logging
import ProviderModel

/// What a group's checks work with, inside the child process: the loaded
/// plugin, its fixtures, and the run's options.
struct GroupContext {
    let options: SuiteOptions
    let recorder: CheckRecorder
    let plugin: LoadedPlugin
    let fixtures: Fixtures

    /// Host services with the clock pinned to the fixtures' time (shifted by `skewMs`).
    func services(skewMs: Int64 = 0, interleaves: Bool = false) -> HostServices {
        var logger = Logger(label: "conformance")
        logger.logLevel = .critical
        return HostServices(logger: logger, nowMilliseconds: fixtures.manifest.nowMs + skewMs, fetcher: fixtureFetcher(),
                            interleaves: interleaves)
    }

    /// A fetch service holding the fixtures' documents and nothing else: the suite never goes to the network.
    private func fixtureFetcher() -> DocumentFetcher? {
        guard !fixtures.documents.isEmpty else { return nil }
        let fetcher = DocumentFetcher(policy: FetchPolicy(allow: fixtures.documents.keys.sorted()), client: OfflineHTTPClient())
        for (url, document) in fixtures.documents { fetcher.store(document, for: url) }
        return fetcher
    }

    func instance(config: [KeyValue]? = nil, skewMs: Int64 = 0, interleaves: Bool = false) throws(PluginFailure) -> PluginInstance {
        try plugin.makeInstance(configuration: config ?? fixtures.config, services: services(skewMs: skewMs, interleaves: interleaves))
    }

    /// The instance a group's checks share, made from the fixtures' config; when
    /// the plugin refuses it, that is recorded as the group's one failed check.
    func sharedInstance() -> PluginInstance? {
        do {
            return try instance()
        } catch {
            check("an instance from the fixtures' config") { .fail(expected: "an instance", actual: error.summary) }
            return nil
        }
    }

    /// The plugin's raw table; nil only when the entry function stopped answering after it loaded.
    var table: PluginTable? { PluginTable(path: plugin.path) }

    var channel: Channel { fixtures.manifest.message?.channel ?? plugin.descriptor.channels.first ?? .email }

    func messages(_ count: Int) -> [OutboundMessage] {
        fixtures.messages(count, channel: channel)
    }

    func check(_ name: String, _ body: () throws -> Verdict) {
        recorder.check(name, body)
    }
}

/// A named set of checks that runs in one child process.
protocol CheckGroup {
    static var name: String { get }
    static func run(_ context: GroupContext)
}

enum CheckGroups {
    nonisolated(unsafe) static let all: [any CheckGroup.Type] = [
        HandshakeChecks.self, ConfigChecks.self, SenderChecks.self, RequestChecks.self, WebhookChecks.self, HostileValueChecks.self,
        ConcurrencyChecks.self, BorrowedInputChecks.self, FuzzChecks.self, MemoryChecks.self,
    ]
    static var names: [String] { all.map { $0.name } }
}

extension Error {
    var pluginFailure: PluginFailure { self as? PluginFailure ?? PluginFailure(.internal, "\(self)") }

    /// The host caught the plugin breaking the ABI contract (HostCall, PluginInstance).
    var isContractViolation: Bool { pluginFailure.message.contains("contract") }

    var summary: String {
        let failure = pluginFailure
        return "\(failure.status.rawValue)\(failure.field.isEmpty ? "" : " (\(failure.field))"): \(failure.message)"
    }
}

/// Runs a plugin call and gives its failure, or nil when it succeeded.
func failure(of call: () throws -> Void) -> PluginFailure? {
    do {
        try call()
        return nil
    } catch {
        return error.pluginFailure
    }
}
