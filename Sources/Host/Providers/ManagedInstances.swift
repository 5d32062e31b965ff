import Domain
import HostCore
import Persistence
import ProviderModel

/// The plugin instance of each provider account the deployment holds itself (`[managed.<provider>]`),
/// made once at start-up so a managed account the plugin refuses stops the process there. Every
/// `managed` send-config of a provider sends and verifies through it.
public struct ManagedInstances: Sendable {
    public let instances: [String: PluginInstance]

    public init(plugins: PluginRegistry, accounts: ManagedAccounts, environment: [String: String],
                services: HostServices) throws(HostConfigError) {
        var instances: [String: PluginInstance] = [:]
        for provider in accounts.providers {
            guard let plugin = plugins[provider] else {
                throw HostConfigError(path: "[managed.\(provider)]", message: "no loaded plugin has the id \(provider)")
            }
            guard let entries = try accounts.config(provider, environment: environment) else { continue }
            do {
                instances[provider] = try plugin.makeInstance(configuration: entries, services: services)
            } catch {
                throw HostConfigError(path: "[managed.\(provider)]", message: "the \(provider) plugin refuses it: \(error.description)")
            }
        }
        self.instances = instances
    }

    public init() { instances = [:] }

    public subscript(provider provider: String) -> PluginInstance? { instances[provider] }
    public var providers: Set<String> { Set(instances.keys) }
}
