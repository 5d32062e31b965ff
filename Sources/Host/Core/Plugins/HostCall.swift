#if canImport(Glibc)
import Glibc
#endif
import BatchSenderABI
import Logging
import ProviderCrypto
import ProviderModel

/// The host's side of one plugin call (host.h bsp_call): it collects what the
/// plugin emits, checks each emit against the contract, and serves the host
/// services. Created per call and confined to the calling thread.
final class HostCall {
    enum Kind {
        case create
        case prepare(messageCount: Int)
        case interpret(messageCount: Int)
        case verify
        case parse
    }

    let kind: Kind
    let services: HostServices
    let pluginId: String
    private(set) var requests: [PreparedRequest] = []
    private(set) var outcomes: [SendOutcome] = []
    private(set) var events: [DeliveryEvent] = []
    private(set) var error: (field: String, message: String)?
    /// URLs the plugin asked for that are not cached yet.
    private(set) var pendingFetches: [String] = []
    /// Documents handed to the plugin during this call: kept alive until it returns.
    private var lentDocuments: [FetchedDocument] = []

    init(kind: Kind, services: HostServices, pluginId: String) {
        self.kind = kind
        self.services = services
        self.pluginId = pluginId
    }

    /// Runs `body` with a bsp_call that leads back to this object.
    func perform(_ body: (UnsafeMutablePointer<bsp_call>) -> bsp_status) -> bsp_status {
        var call = bsp_call()
        call.struct_size = bsp_call.currentSize
        call.host = HostCall.servicesTable
        call.host_data = Unmanaged.passUnretained(self).toOpaque()
        call.set_error = { call, field, message in
            guard let self_ = HostCall.from(call) else { return }
            self_.interleave()
            self_.error = (field.string, message.string)
        }
        call.emit_request = { call, request in
            guard let self_ = HostCall.from(call), let request else { return BSP_E_INVALID_ARGUMENT }
            // Before the plugin's data is read: another call may overwrite a buffer the plugin wrongly shares.
            self_.interleave()
            return self_.take(PreparedRequest(reading: request))
        }
        call.emit_outcome = { call, outcome in
            guard let self_ = HostCall.from(call), let outcome else { return BSP_E_INVALID_ARGUMENT }
            self_.interleave()
            guard let decoded = SendOutcome(reading: outcome) else {
                return self_.refuse("emit_outcome: kind is not one of BSP_OUTCOME_*")
            }
            return self_.take(decoded)
        }
        call.emit_event = { call, event in
            guard let self_ = HostCall.from(call), let event else { return BSP_E_INVALID_ARGUMENT }
            self_.interleave()
            return self_.take(DeliveryEvent(reading: event))
        }
        return withExtendedLifetime(self) { withUnsafeMutablePointer(to: &call, body) }
    }

    /// The failure a non-OK status stands for, with the plugin's own words when it gave them.
    func failure(status: bsp_status, fallback: String) -> PluginFailure {
        let status = PluginStatus(code: status)
        guard let error else { return PluginFailure(status, fallback) }
        return PluginFailure(status, field: error.field, error.message.isEmpty ? fallback : error.message)
    }

    private static func from(_ call: UnsafeMutablePointer<bsp_call>?) -> HostCall? {
        guard let data = call?.pointee.host_data else { return nil }
        return Unmanaged<HostCall>.fromOpaque(data).takeUnretainedValue()
    }

    private func refuse(_ message: String) -> bsp_status {
        error = ("", "contract: \(message)")
        return BSP_E_INVALID_ARGUMENT
    }

    private var messageCount: Int? {
        switch kind {
        case .prepare(let count), .interpret(let count): count
        default: nil
        }
    }

    /// Lets other threads run, when the services ask for it (HostServices.interleaves).
    private func interleave() {
        if services.interleaves { sched_yield() }
    }

    private func take(_ request: PreparedRequest) -> bsp_status {
        guard case .prepare(let count) = kind else { return refuse("emit_request outside prepare") }
        if let problem = RequestRules.problem(in: request, messageCount: count) { return refuse("emit_request: \(problem)") }
        requests.append(request)
        return BSP_OK
    }

    private func take(_ outcome: SendOutcome) -> bsp_status {
        guard let count = messageCount else { return refuse("emit_outcome outside prepare or interpret") }
        guard outcome.messageIndex < count else {
            return refuse("emit_outcome: message_index \(outcome.messageIndex) is out of range 0..<\(count)")
        }
        guard outcome.kind != .accepted || !outcome.providerMessageId.isEmpty else {
            return refuse("emit_outcome: an accepted outcome needs provider_message_id")
        }
        outcomes.append(outcome)
        return BSP_OK
    }

    private func take(_ event: DeliveryEvent) -> bsp_status {
        guard case .parse = kind else { return refuse("emit_event outside parse") }
        events.append(event)
        return BSP_OK
    }

    fileprivate func fetch(_ url: String, into out: UnsafeMutablePointer<bsp_bytes>) -> bsp_status {
        guard let fetcher = services.fetcher else {
            error = ("fetch", "this host has no fetch service configured")
            return BSP_E_FORBIDDEN
        }
        switch fetcher.lookup(url) {
        case .forbidden:
            error = ("fetch", "\(url) is outside the host's fetch allow-list")
            return BSP_E_FORBIDDEN
        case .missing:
            pendingFetches.append(url)
            return BSP_E_PENDING
        case .failed(let message):
            error = ("fetch", message)
            return BSP_E_INTERNAL
        case .document(let document):
            lentDocuments.append(document)
            out.pointee = bsp_bytes(ptr: UnsafePointer(document.storage.baseAddress), len: document.storage.count)
            return BSP_OK
        }
    }

    /// The host services table: one for the process, as host.h promises.
    nonisolated(unsafe) static let servicesTable: UnsafePointer<bsp_host> = {
        var table = bsp_host()
        table.struct_size = bsp_host.currentSize
        table.abi_major = UInt32(BSP_ABI_MAJOR)
        table.abi_minor = UInt32(BSP_ABI_MINOR)
        table.log = { call, level, message in
            guard let self_ = HostCall.from(call) else { return }
            let level: Logger.Level = switch level {
            case BSP_LOG_DEBUG: .debug
            case BSP_LOG_INFO: .info
            case BSP_LOG_WARN: .warning
            default: .error
            }
            self_.services.logger.log(level: level, "\(message.string)", metadata: ["plugin": "\(self_.pluginId)"])
        }
        table.now_ms = { call in
            guard let self_ = HostCall.from(call) else { return 0 }
            self_.interleave()
            return self_.services.nowMilliseconds
        }
        table.random_bytes = { _, out, count in
            guard count == 0 || out != nil else { return BSP_E_INVALID_ARGUMENT }
            return SecureRandom.fill(UnsafeMutableRawBufferPointer(start: out, count: count)) ? BSP_OK : BSP_E_INTERNAL
        }
        table.fetch = { call, url, out in
            guard let self_ = HostCall.from(call), let out else { return BSP_E_INVALID_ARGUMENT }
            return self_.fetch(url.string, into: out)
        }
        let pointer = UnsafeMutablePointer<bsp_host>.allocate(capacity: 1)
        pointer.initialize(to: table)
        return UnsafePointer(pointer)
    }()
}
