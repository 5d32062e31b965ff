import ProviderModel

/// The deployment's own provider accounts (`[managed.<provider>]`: the
/// plugin's config keys), which `managed` send-configs use. Secrets stay out
/// of the file: a value `env:NAME` is read from the environment variable NAME.
public struct ManagedAccounts: Sendable, Equatable {
    public var configs: [String: [String: String]]

    public init(_ configs: [String: [String: String]] = [:]) {
        self.configs = configs
    }

    public var providers: [String] { configs.keys.sorted() }

    /// The plugin config of `provider`'s managed account, `env:` values resolved; nil when there is none.
    public func config(_ provider: String, environment: [String: String]) throws(HostConfigError) -> [KeyValue]? {
        guard let entries = configs[provider] else { return nil }
        return try entries.keys.sorted().map { key throws(HostConfigError) in
            let value = entries[key]!
            guard value.hasPrefix("env:") else { return KeyValue(key, value) }
            let name = String(value.dropFirst(4))
            guard let resolved = environment[name], !resolved.isEmpty else {
                throw HostConfigError(path: "[managed.\(provider)]", message: "\(key): the environment variable \(name) is not set")
            }
            return KeyValue(key, resolved)
        }
    }
}
