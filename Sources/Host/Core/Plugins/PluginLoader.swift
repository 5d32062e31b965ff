#if canImport(Glibc)
import Glibc
#endif
import BatchSenderABI
import Foundation
import ProviderModel

/// Loads plugin files the one way the ABI allows: once, at start-up, with
/// RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE (a library with Swift code in it
/// must never be unloaded), then the handshake and a check of its tables.
public enum PluginLoader {
    public static func load(path given: String) throws(PluginLoadError) -> LoadedPlugin {
        // dlopen searches the library path for a name without a slash: always give it the file itself.
        let path = URL(fileURLWithPath: given).standardizedFileURL.path
        guard FileManager.default.fileExists(atPath: path) else {
            throw PluginLoadError(path: path, reason: .missingFile)
        }
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            let detail = dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
            throw PluginLoadError(path: path, reason: .notASharedObject(detail))
        }
        _ = dlerror()
        guard let symbol = dlsym(handle, BSP_ENTRY_SYMBOL) else {
            throw PluginLoadError(path: path, reason: .missingEntrySymbol)
        }
        let entry = unsafeBitCast(symbol, to: bsp_entry_fn.self)
        let hostMajor = UInt32(BSP_ABI_MAJOR)
        guard let table = entry(hostMajor, UInt32(BSP_ABI_MINOR)) else {
            throw PluginLoadError(path: path, reason: .refusedABI(hostMajor: hostMajor))
        }
        let plugin = bsp_plugin.read(from: table)
        guard plugin.abi_major == hostMajor else {
            throw PluginLoadError(path: path, reason: .wrongABI(hostMajor: hostMajor, pluginMajor: plugin.abi_major))
        }
        guard plugin.create != nil, plugin.destroy != nil, plugin.get_interface != nil else {
            throw PluginLoadError(path: path, reason: .badTable("a plugin table without create, destroy or get_interface"))
        }
        let descriptor: PluginDescriptor
        do {
            descriptor = try PluginDescriptor(reading: plugin.descriptor)
        } catch {
            throw PluginLoadError(path: path, reason: .badTable(error.description))
        }
        return try LoadedPlugin(path: path, table: plugin, descriptor: descriptor)
    }

    /// Whether the plugin's entry function returns a table when a host of
    /// another ABI major asks (entry.h: it must return NULL for a major it does
    /// not serve). For the conformance suite; the plugin must already load.
    public static func entryAnswers(path given: String, hostMajor: UInt32, hostMinor: UInt32) throws(PluginLoadError) -> Bool {
        let path = URL(fileURLWithPath: given).standardizedFileURL.path
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            throw PluginLoadError(path: path, reason: .notASharedObject(dlerror().map { String(cString: $0) } ?? "dlopen failed"))
        }
        guard let symbol = dlsym(handle, BSP_ENTRY_SYMBOL) else {
            throw PluginLoadError(path: path, reason: .missingEntrySymbol)
        }
        return unsafeBitCast(symbol, to: bsp_entry_fn.self)(hostMajor, hostMinor) != nil
    }
}
