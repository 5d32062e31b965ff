import Synchronization

/// Turns a Swift provider type into the plugin's C tables. A plugin's one export line:
///
///     @c @implementation public func batchsender_plugin_entry(_ major: UInt32, _ minor: UInt32) -> UnsafePointer<bsp_plugin>? {
///         PluginExport.entry(MyProvider.self, hostMajor: major, hostMinor: minor)
///     }
///
/// `@c @implementation` makes the compiler check the function against entry.h.
public enum PluginExport {
    /// Answers the host's handshake: the plugin table for ABI major 1, NULL for any other major.
    public static func entry<Provider: ProviderPlugin>(
        _ provider: Provider.Type, hostMajor: UInt32, hostMinor: UInt32
    ) -> UnsafePointer<bsp_plugin>? {
        guard hostMajor == UInt32(BSP_ABI_MAJOR) else { return nil }
        hostMinorAnswered.store(hostMinor, ordering: .relaxed)
        return exported.withLock { table in
            if let table { return table }
            let built = ExportedTables.build(for: Provider.self)
            table = built
            return built
        }
    }

    /// The ABI minor of the host that called the entry function; what this plugin may emit depends
    /// on it (entry.h). Before any call, this header's own minor.
    static var hostMinor: UInt32 { hostMinorAnswered.load(ordering: .relaxed) }
    private static let hostMinorAnswered = Atomic<UInt32>(UInt32(BSP_ABI_MINOR))

    /// Built once per process; plugins are never unloaded, so the tables live forever.
    private static let exported = Mutex<UnsafePointer<bsp_plugin>?>(nil)
}
