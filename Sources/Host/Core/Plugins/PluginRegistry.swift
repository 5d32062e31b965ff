import Logging

/// The loaded plugins, by provider id. Built once at start-up from the host
/// config; read-only afterwards.
public struct PluginRegistry: Sendable {
    public private(set) var plugins: [String: LoadedPlugin] = [:]

    public init() {}

    /// Loads every configured plugin. A required plugin's refusal is thrown
    /// (start-up stops); an optional one's is logged and skipped.
    public init(loading entries: [PluginEntry], logger: Logger) throws(PluginLoadError) {
        for entry in entries {
            do {
                try register(PluginLoader.load(path: entry.path))
            } catch {
                guard !entry.required else { throw error }
                logger.warning("optional plugin skipped", metadata: ["plugin": "\(entry.path)", "reason": "\(error.description)"])
            }
        }
    }

    public mutating func register(_ plugin: LoadedPlugin) throws(PluginLoadError) {
        if let existing = plugins[plugin.id] {
            throw PluginLoadError(path: plugin.path, reason: .duplicateId(plugin.id, loadedFrom: existing.path))
        }
        plugins[plugin.id] = plugin
    }

    public subscript(id: String) -> LoadedPlugin? { plugins[id] }

    public var ids: [String] { plugins.keys.sorted() }
}
