/// The C tables of the one provider type this plugin exports, and the
/// non-generic thunks behind them. C function pointers cannot capture a
/// generic type, so the thunks find the type through `exportedType`, which
/// the entry function sets before the host can call anything else (entry.h:
/// the entry function runs alone, before every other call).
nonisolated(unsafe) private var exportedType: (any ProviderPlugin.Type)?
nonisolated(unsafe) private var exportedDescriptor: PluginDescriptor?
/// The descriptor's max batch, read on every send call without copying the descriptor.
nonisolated(unsafe) private var exportedMaxBatch = 1

/// Never freed: the descriptor's strings must live as long as the process.
nonisolated(unsafe) private let permanentArena = CArena()

/// One configured provider, behind the C `bsp_instance *`.
private final class InstanceBox {
    let sender: (any MessageSending)?
    let webhook: (any WebhookHandling)?

    init(_ provider: any ProviderPlugin) {
        sender = provider as? any MessageSending
        webhook = provider as? any WebhookHandling
    }

    static func from(_ instance: OpaquePointer?) -> InstanceBox? {
        guard let instance else { return nil }
        return Unmanaged<InstanceBox>.fromOpaque(UnsafeRawPointer(instance)).takeUnretainedValue()
    }
}

enum ExportedTables {
    static func build<Provider: ProviderPlugin>(for provider: Provider.Type) -> UnsafePointer<bsp_plugin> {
        var descriptor = Provider.descriptor
        descriptor.interfaces = []
        if Provider.self is any MessageSending.Type { descriptor.interfaces.append(PluginInterface.senderV1) }
        if Provider.self is any WebhookHandling.Type { descriptor.interfaces.append(PluginInterface.webhookV1) }
        exportedType = provider
        exportedDescriptor = descriptor
        exportedMaxBatch = max(descriptor.maxBatch, 1)

        var table = bsp_plugin()
        table.struct_size = bsp_plugin.currentSize
        table.abi_major = UInt32(BSP_ABI_MAJOR)
        table.abi_minor = UInt32(BSP_ABI_MINOR)
        table.descriptor = descriptor.cDescriptor(in: permanentArena)
        table.create = createThunk
        table.destroy = destroyThunk
        table.get_interface = getInterfaceThunk
        return UnsafePointer(permanentArena.store(table))
    }

    nonisolated(unsafe) static let senderTable: UnsafePointer<bsp_sender_v1> = {
        var table = bsp_sender_v1()
        table.struct_size = bsp_sender_v1.currentSize
        table.prepare = prepareThunk
        table.interpret = interpretThunk
        return UnsafePointer(permanentArena.store(table))
    }()

    nonisolated(unsafe) static let webhookTable: UnsafePointer<bsp_webhook_v1> = {
        var table = bsp_webhook_v1()
        table.struct_size = bsp_webhook_v1.currentSize
        table.verify = verifyThunk
        table.parse = parseThunk
        return UnsafePointer(permanentArena.store(table))
    }()
}

private func createThunk(
    _ call: UnsafeMutablePointer<bsp_call>?, _ config: UnsafePointer<bsp_config>?,
    _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> bsp_status {
    guard let call, let out else { return BSP_E_INVALID_ARGUMENT }
    out.pointee = nil
    let context = CallContext(call)
    guard let type = exportedType, let descriptor = exportedDescriptor else {
        return context.fail(.internal, "create was called before the entry function")
    }
    let entries = config.map { bsp_config.read(from: $0).entries.pairs } ?? []
    do {
        let configuration = try PluginConfiguration(validating: entries, against: descriptor.configKeys)
        let provider = try type.init(configuration: configuration, context: context)
        out.pointee = OpaquePointer(Unmanaged.passRetained(InstanceBox(provider)).toOpaque())
        return BSP_OK
    } catch {
        return context.fail(error)
    }
}

private func destroyThunk(_ instance: OpaquePointer?) {
    guard let instance else { return }
    Unmanaged<InstanceBox>.fromOpaque(UnsafeRawPointer(instance)).release()
}

private func getInterfaceThunk(_ id: UnsafePointer<CChar>?) -> UnsafeRawPointer? {
    guard let id, let type = exportedType else { return nil }
    switch String(cString: id) {
    case PluginInterface.senderV1 where type is any MessageSending.Type:
        return UnsafeRawPointer(ExportedTables.senderTable)
    case PluginInterface.webhookV1 where type is any WebhookHandling.Type:
        return UnsafeRawPointer(ExportedTables.webhookTable)
    default:
        return nil
    }
}

/// Reads the host's message array, checking the count against max_batch.
private func readMessages(
    _ messages: UnsafePointer<UnsafePointer<bsp_message>?>?, _ count: Int, _ context: CallContext
) -> Result<[OutboundMessage], PluginFailure> {
    let maxBatch = exportedMaxBatch
    guard count >= 1, count <= maxBatch else {
        return .failure(PluginFailure(.invalidArgument, field: "messages", "\(count) messages given; this plugin takes 1 to \(maxBatch)"))
    }
    guard let messages else { return .failure(PluginFailure(.invalidArgument, field: "messages", "the message array is NULL")) }
    var decoded: [OutboundMessage] = []
    decoded.reserveCapacity(count)
    for index in 0..<count {
        guard let message = OutboundMessage(reading: messages[index]) else {
            return .failure(PluginFailure(.invalidArgument, field: "messages[\(index)]", "NULL, or a channel this ABI does not define"))
        }
        decoded.append(message)
    }
    return .success(decoded)
}

private func prepareThunk(
    _ instance: OpaquePointer?, _ call: UnsafeMutablePointer<bsp_call>?,
    _ messages: UnsafePointer<UnsafePointer<bsp_message>?>?, _ count: Int
) -> bsp_status {
    guard let call else { return BSP_E_INVALID_ARGUMENT }
    let context = CallContext(call)
    guard let sender = InstanceBox.from(instance)?.sender else {
        return context.fail(.invalidArgument, "no instance, or the instance does not send")
    }
    do {
        let prepared = try sender.prepare(try readMessages(messages, count, context).get(), context: context)
        for request in prepared.requests {
            let status = context.emit(request)
            guard status == BSP_OK else { return status }
        }
        for outcome in prepared.refused {
            let status = context.emit(outcome)
            guard status == BSP_OK else { return status }
        }
        return BSP_OK
    } catch {
        return context.fail(error)
    }
}

private func interpretThunk(
    _ instance: OpaquePointer?, _ call: UnsafeMutablePointer<bsp_call>?,
    _ messages: UnsafePointer<UnsafePointer<bsp_message>?>?, _ count: Int,
    _ response: UnsafePointer<bsp_http_response>?
) -> bsp_status {
    guard let call else { return BSP_E_INVALID_ARGUMENT }
    let context = CallContext(call)
    guard let sender = InstanceBox.from(instance)?.sender else {
        return context.fail(.invalidArgument, "no instance, or the instance does not send")
    }
    guard let response else { return context.fail(.invalidArgument, field: "response", "the response is NULL") }
    do {
        let decoded = try readMessages(messages, count, context).get()
        for outcome in sender.interpret(HTTPResult(reading: response), for: decoded, context: context) {
            let status = context.emit(outcome)
            guard status == BSP_OK else { return status }
        }
        return BSP_OK
    } catch {
        return context.fail(error)
    }
}

private func verifyThunk(
    _ instance: OpaquePointer?, _ call: UnsafeMutablePointer<bsp_call>?, _ request: UnsafePointer<bsp_inbound_request>?
) -> bsp_status {
    guard let call else { return BSP_E_INVALID_ARGUMENT }
    let context = CallContext(call)
    guard let webhook = InstanceBox.from(instance)?.webhook else {
        return context.fail(.invalidArgument, "no instance, or the instance takes no webhooks")
    }
    guard let request else { return context.fail(.invalidArgument, field: "request", "the request is NULL") }
    do {
        try webhook.verify(InboundWebhook(reading: request), context: context)
        return BSP_OK
    } catch {
        return context.fail(error)
    }
}

private func parseThunk(
    _ instance: OpaquePointer?, _ call: UnsafeMutablePointer<bsp_call>?, _ request: UnsafePointer<bsp_inbound_request>?
) -> bsp_status {
    guard let call else { return BSP_E_INVALID_ARGUMENT }
    let context = CallContext(call)
    guard let webhook = InstanceBox.from(instance)?.webhook else {
        return context.fail(.invalidArgument, "no instance, or the instance takes no webhooks")
    }
    guard let request else { return context.fail(.invalidArgument, field: "request", "the request is NULL") }
    do {
        let events = try webhook.parse(InboundWebhook(reading: request), context: context)
        return ScratchArena.with { arena in
            for event in events {
                let status = context.emit(event, arena: arena)
                guard status == BSP_OK else { return status }
            }
            return BSP_OK
        }
    } catch {
        return context.fail(error)
    }
}
