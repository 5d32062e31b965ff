import EchoProvider
import ProviderKit

// The plugin's one exported symbol; the compiler checks it against entry.h.
@c @implementation public func batchsender_plugin_entry(_ major: UInt32, _ minor: UInt32) -> UnsafePointer<bsp_plugin>? {
    PluginExport.entry(EchoProvider.self, hostMajor: major, hostMinor: minor)
}
