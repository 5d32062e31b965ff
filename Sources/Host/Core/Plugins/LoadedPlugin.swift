import BatchSenderABI
import ProviderModel

/// A plugin the loader accepted: its descriptor and the interface tables it
/// serves. Tables are static data of the plugin, so this is safe to share.
public final class LoadedPlugin: @unchecked Sendable {
    public let path: String
    public let descriptor: PluginDescriptor
    let table: bsp_plugin
    let sender: bsp_sender_v1?
    let webhook: bsp_webhook_v1?

    init(path: String, table: bsp_plugin, descriptor: PluginDescriptor) throws(PluginLoadError) {
        self.path = path
        self.table = table
        self.descriptor = descriptor
        func interface(_ id: String) -> UnsafeRawPointer? { table.get_interface?(id) }
        sender = interface(PluginInterface.senderV1).map { bsp_sender_v1.read(from: $0) }
        webhook = interface(PluginInterface.webhookV1).map { bsp_webhook_v1.read(from: $0) }
        if let sender, sender.prepare == nil || sender.interpret == nil {
            throw PluginLoadError(path: path, reason: .badTable("a sender table without prepare or interpret"))
        }
        if let webhook, webhook.verify == nil || webhook.parse == nil {
            throw PluginLoadError(path: path, reason: .badTable("a webhook table without verify or parse"))
        }
        if sender == nil && webhook == nil {
            throw PluginLoadError(path: path, reason: .badTable("no sender or webhook interface"))
        }
    }

    /// The ABI minor the plugin was built for (entry.h).
    public var abiMinor: UInt32 { table.abi_minor }

    /// Whether the plugin sends `bsp_message.attachments`: built for 1.2 or later, and saying so
    /// (`BSP_FEATURE_ATTACHMENTS`). Any other would send the email without its files.
    public var readsAttachments: Bool { abiMinor >= 2 && descriptor.sendsAttachments }

    /// destroy(NULL), which plugin.h says is harmless: for the conformance suite.
    @_spi(Conformance) public func destroyNothing() {
        table.destroy?(nil)
    }

    /// Whether get_interface answers a table for `id`: for the conformance suite.
    @_spi(Conformance) public func answersInterface(_ id: String) -> Bool {
        table.get_interface?(id) != nil
    }

    public var id: String { descriptor.id }
    public var sends: Bool { sender != nil }
    public var receivesWebhooks: Bool { webhook != nil }

    /// A configured instance. The configuration is checked against the
    /// declared keys here first, so every plugin refuses bad config the same way;
    /// `hostChecks: false` hands it to the plugin unchecked (the conformance
    /// suite's way to see that the plugin refuses bad config by itself).
    public func makeInstance(
        configuration entries: [KeyValue], services: HostServices, hostChecks: Bool = true
    ) throws(PluginFailure) -> PluginInstance {
        if hostChecks { _ = try PluginConfiguration(validating: entries, against: descriptor.configKeys) }
        let arena = CArena()
        var config = bsp_config()
        config.struct_size = bsp_config.currentSize
        config.entries = arena.pairs(entries)
        var instance: OpaquePointer?
        let call = HostCall(kind: .create, services: services, pluginId: id)
        let status = withUnsafePointer(to: &config) { config in
            call.perform { table.create?($0, config, &instance) ?? BSP_E_INTERNAL }
        }
        guard status == BSP_OK, let instance else {
            if let instance { table.destroy?(instance) }
            throw call.failure(status: status == BSP_OK ? BSP_E_INTERNAL : status,
                               fallback: "create returned no instance")
        }
        return PluginInstance(plugin: self, handle: instance, services: services)
    }
}
