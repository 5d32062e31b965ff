#if canImport(Glibc)
import Glibc
#endif
import BatchSenderABI
import ProviderModel

/// The plugin's own table, read the way the loader reads it but kept raw: the checks of what the
/// loader forgives (an unknown rate unit reads as no rate) and of what depends on the ABI minor the
/// plugin was built for (a 1.0 plugin has no throttled outcome) need the numbers it wrote.
struct PluginTable {
    /// The minor of the ABI the plugin was built against (bsp_plugin.abi_minor).
    let abiMinor: UInt32
    /// The descriptor as the host reads it: fields past its struct_size as zero.
    let descriptor: bsp_descriptor?

    /// Calls the entry function again, as a host of this header's ABI; the plugin is already
    /// loaded (RTLD_NODELETE), so this finds the same library and the same static table.
    init?(path: String) {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE),
              let symbol = dlsym(handle, BSP_ENTRY_SYMBOL),
              let table = unsafeBitCast(symbol, to: bsp_entry_fn.self)(UInt32(BSP_ABI_MAJOR), UInt32(BSP_ABI_MINOR))
        else { return nil }
        let plugin = bsp_plugin.read(from: table)
        abiMinor = plugin.abi_minor
        descriptor = plugin.descriptor.map { bsp_descriptor.read(from: $0) }
    }
}
