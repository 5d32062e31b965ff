/// Why a plugin file was refused. Every message names the file, what was
/// expected, what was found, and what to do.
public struct PluginLoadError: Error, Sendable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        case missingFile
        case notASharedObject(String)
        case missingEntrySymbol
        case refusedABI(hostMajor: UInt32)
        case wrongABI(hostMajor: UInt32, pluginMajor: UInt32)
        case badTable(String)
        case duplicateId(String, loadedFrom: String)
    }

    public let path: String
    public let reason: Reason

    public init(path: String, reason: Reason) {
        self.path = path
        self.reason = reason
    }

    public var description: String {
        let (expected, found, todo): (String, String, String) = switch reason {
        case .missingFile:
            ("a plugin file", "no file at this path", "check the path in the host config, or build the plugin")
        case .notASharedObject(let detail):
            ("a shared object (ELF .so)", "a file the dynamic loader refuses (\(detail))",
             "point the config at the plugin's .so, built with -shared for this machine")
        case .missingEntrySymbol:
            ("an exported function batchsender_plugin_entry", "no such symbol",
             "export it (Swift: the @c export line of the kit; C: BSP_EXPORT) and link with plugin-exports.map")
        case .refusedABI(let major):
            ("a plugin that serves ABI major \(major)", "its entry function returned NULL for major \(major)",
             "rebuild the plugin against this host's batchsender/plugin.h")
        case .wrongABI(let host, let plugin):
            ("ABI major \(host)", "a table for ABI major \(plugin)", "rebuild the plugin against this host's batchsender/plugin.h")
        case .badTable(let problem):
            ("a complete plugin table and descriptor", problem, "fix the plugin; the conformance suite checks this")
        case .duplicateId(let id, let other):
            ("a provider id not loaded yet", "id \"\(id)\", already loaded from \(other)",
             "list each plugin once, or give the plugins distinct ids")
        }
        return "plugin \(path): expected \(expected), found \(found); \(todo)"
    }
}
