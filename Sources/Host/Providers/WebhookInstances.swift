import Domain
import HostCore
import Persistence
import ProviderModel

/// The plugin instance that verifies and parses a provider's webhooks: the
/// deployment's managed account for `POST /webhooks/{provider}`, the
/// send-config's own (its secret, cached like the sender's) for
/// `POST /webhooks/{provider}/{sendConfigId}`.
public final class WebhookInstances: Sendable {
    public let plugins: PluginRegistry
    private let managed: ManagedInstances
    private let configs: SendConfigInstances

    public init(plugins: PluginRegistry, managed: ManagedInstances, configs: SendConfigInstances) {
        self.plugins = plugins
        self.configs = configs
        self.managed = managed
    }

    public func instance(provider: String, sendConfigID: String?) async throws -> Result<PluginInstance, SendConfigProblem> {
        if let known = cachedInstance(provider: provider, sendConfigID: sendConfigID) { return known }
        // Only a well-formed BYOK id the cache does not answer for reaches here.
        let id = sendConfigID.flatMap(Self.canonicalID) ?? ""
        return Self.matching(try await configs.instance(sendConfigID: id), provider: provider, sendConfigID: id)
    }

    /// The answer when it needs no storage read (unknown provider, managed route, malformed id, a config
    /// cached recently); nil when `instance` must read the config.
    public func cachedInstance(provider: String, sendConfigID: String?) -> Result<PluginInstance, SendConfigProblem>? {
        guard plugins[provider] != nil else { return .failure(SendConfigProblem("no provider \(provider) is loaded in this deployment")) }
        guard let sendConfigID else {
            return managed[provider: provider].map { .success($0) }
                ?? .failure(SendConfigProblem("this deployment has no managed \(provider) account; a BYOK config's webhooks go to /webhooks/\(provider)/{sendConfigId}"))
        }
        guard let id = Self.canonicalID(sendConfigID) else { return .failure(SendConfigProblem("no send-config \(sendConfigID.prefix(64))")) }
        return configs.cachedInstance(sendConfigID: id).map { Self.matching($0, provider: provider, sendConfigID: id) }
    }

    /// The id in lower case when it is a UUID, nil otherwise. PostgreSQL finds a config by any spelling of
    /// its id, so the cache is keyed by this one: 5,000 case spellings of one id are one entry, not 5,000.
    public static func canonicalID(_ text: String) -> String? {
        guard isUUID(text) else { return nil }
        return text.utf8.contains { (UInt8(ascii: "A")...UInt8(ascii: "F")).contains($0) } ? text.lowercased() : text
    }

    private static func matching(_ found: Result<PluginInstance, SendConfigProblem>, provider: String,
                                 sendConfigID: String) -> Result<PluginInstance, SendConfigProblem> {
        switch found {
        case .success(let instance) where instance.plugin.id == provider: return .success(instance)
        case .success: return .failure(SendConfigProblem("send-config \(sendConfigID) is not a \(provider) config"))
        case .failure(let problem): return .failure(problem)
        }
    }

    static func isUUID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return false }
        for (index, byte) in bytes.enumerated() {
            if [8, 13, 18, 23].contains(index) { guard byte == UInt8(ascii: "-") else { return false }; continue }
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte | 0x20) else { return false }
        }
        return true
    }
}
