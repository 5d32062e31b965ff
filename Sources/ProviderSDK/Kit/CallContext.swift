import Foundation

/// The kit's `PluginContext` for one C call: host services and sinks reached
/// through the `bsp_call` the host passed. Lives only for that call.
struct CallContext: PluginContext {
    let call: UnsafeMutablePointer<bsp_call>
    let table: bsp_call
    let host: bsp_host?

    init(_ call: UnsafeMutablePointer<bsp_call>) {
        self.call = call
        self.table = bsp_call.read(from: call)
        self.host = table.host.map { bsp_host.read(from: $0) }
    }

    /// The ABI minor the host implements: its services table says, else the entry function was told.
    var hostMinor: UInt32 {
        host?.abi_minor ?? PluginExport.hostMinor
    }

    var nowMilliseconds: Int64 {
        host?.now_ms?(call) ?? Int64(Date().timeIntervalSince1970 * 1000)
    }

    func log(_ level: PluginLogLevel, _ message: String) {
        guard let log = host?.log else { return }
        message.withBSPStr { log(call, level.rawValue, $0) }
    }

    func randomBytes(_ count: Int) -> [UInt8]? {
        guard let random = host?.random_bytes else { return nil }
        var out = [UInt8](repeating: 0, count: count)
        let status = out.withUnsafeMutableBufferPointer { random(call, $0.baseAddress, count) }
        return status == BSP_OK ? out : nil
    }

    func fetch(_ url: String) -> FetchResult {
        guard let fetch = host?.fetch else { return .failed("the host offers no fetch service") }
        var document = bsp_bytes()
        let status = url.withBSPStr { fetch(call, $0, &document) }
        switch status {
        case BSP_OK: return .document(document.array)
        case BSP_E_PENDING: return .pending
        case BSP_E_FORBIDDEN: return .forbidden
        default: return .failed("the host could not fetch \(url)")
        }
    }

    /// Reports a failure through set_error and gives the status to return.
    func fail(_ failure: PluginFailure) -> bsp_status {
        if let setError = table.set_error {
            failure.field.withBSPStr { field in failure.message.withBSPStr { setError(call, field, $0) } }
        }
        return failure.status.code
    }

    func fail(_ status: PluginStatus, field: String = "", _ message: String) -> bsp_status {
        fail(PluginFailure(status, field: field, message))
    }

    func emit(_ request: PreparedRequest) -> bsp_status {
        guard let emit = table.emit_request else { return fail(.internal, "the host takes no requests in this call") }
        return request.withCRequest { emit(call, $0) }
    }

    func emit(_ outcome: SendOutcome) -> bsp_status {
        guard let emit = table.emit_outcome else { return fail(.internal, "the host takes no outcomes in this call") }
        return outcome.withCOutcome(hostMinor: hostMinor) { emit(call, $0) }
    }

    func emit(_ event: DeliveryEvent, arena: CArena) -> bsp_status {
        guard let emit = table.emit_event else { return fail(.internal, "the host takes no events in this call") }
        return emit(call, event.cEvent(in: arena))
    }
}
