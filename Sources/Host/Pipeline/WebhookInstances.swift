import HostCore
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
        return Self.matching(try await configs.instance(sendConfigID: sendConfigID ?? ""), provider: provider, sendConfigID: sendConfigID ?? "")
    }

    /// The answer when it needs no storage read (unknown provider, managed route, malformed id, a config
    /// cached recently); nil when `instance` must read the config.
    public func cachedInstance(provider: String, sendConfigID: String?) -> Result<PluginInstance, SendConfigProblem>? {
        guard plugins[provider] != nil else { return .failure(SendConfigProblem("no provider \(provider) is loaded in this deployment")) }
        guard let sendConfigID else {
            return managed[provider: provider].map { .success($0) }
                ?? .failure(SendConfigProblem("this deployment has no managed \(provider) account; a BYOK config's webhooks go to /webhooks/\(provider)/{sendConfigId}"))
        }
        guard Self.isUUID(sendConfigID) else { return .failure(SendConfigProblem("no send-config \(sendConfigID)")) }
        return configs.cachedInstance(sendConfigID: sendConfigID).map { Self.matching($0, provider: provider, sendConfigID: sendConfigID) }
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
