import BatchSenderABI
import ProviderModel

/// One configured instance of a plugin (one per send-config), and the host's
/// only way to call it. Each call checks the plugin kept the contract:
/// prepare places every message exactly once, interpret gives exactly one
/// outcome per message. Thread-safe: instance calls may run concurrently.
public final class PluginInstance: @unchecked Sendable {
    public let plugin: LoadedPlugin
    public let services: HostServices
    private let handle: OpaquePointer
    /// Read on every send call, so kept apart from the descriptor (whose copy costs a retain per field).
    private let maxBatch: Int
    /// BSP_CHANNEL_* bits: checking a message's channel is then one AND, not a hash of its name.
    private let channelBits: UInt32

    init(plugin: LoadedPlugin, handle: OpaquePointer, services: HostServices) {
        self.plugin = plugin
        self.handle = handle
        self.services = services
        maxBatch = plugin.descriptor.maxBatch
        channelBits = Channel.bits(of: plugin.descriptor.channels)
    }

    deinit {
        plugin.table.destroy?(handle)
    }

    /// `hostChecks: false` skips the host's own batch checks (count, channels)
    /// so the conformance suite can see the plugin refuse by itself.
    public func prepare(_ messages: [OutboundMessage], hostChecks: Bool = true) throws(PluginFailure) -> PreparedSend {
        if hostChecks && plugin.sender != nil { try checkBatch(messages) }
        return try ScratchArena.with { arena in
            Result { () throws(PluginFailure) in try prepare(cMessages: messages.cMessageArray(in: arena), count: messages.count) }
        }.get()
    }

    /// prepare on messages already in C form: the conformance suite lays them out itself (read-only, at guard pages).
    @_spi(Conformance) public func prepare(cMessages: UnsafePointer<UnsafePointer<bsp_message>?>, count: Int) throws(PluginFailure) -> PreparedSend {
        guard let prepare = plugin.sender?.prepare else {
            throw PluginFailure(.unsupported, "plugin \(plugin.id) does not send messages")
        }
        let call = HostCall(kind: .prepare(messageCount: count), services: services, pluginId: plugin.id)
        let status = call.perform { prepare(handle, $0, cMessages, count) }
        guard status == BSP_OK else { throw call.failure(status: status, fallback: "prepare failed") }
        var placed = [Int](repeating: 0, count: count)
        for request in call.requests {
            for index in request.messageIndices { placed[index] += 1 }
        }
        for outcome in call.outcomes { placed[outcome.messageIndex] += 1 }
        if let index = placed.firstIndex(where: { $0 != 1 }) {
            throw contract("prepare placed message \(index) \(placed[index]) times; every message must be in exactly one request or outcome")
        }
        return PreparedSend(requests: call.requests, refused: call.outcomes)
    }

    public func interpret(_ result: HTTPResult, for messages: [OutboundMessage]) throws(PluginFailure) -> [SendOutcome] {
        if plugin.sender != nil { try checkBatch(messages) }
        return try ScratchArena.with { arena in
            let array = messages.cMessageArray(in: arena)
            return result.withCResponse { response in
                Result { () throws(PluginFailure) in try interpret(cMessages: array, count: messages.count, response: response) }
            }
        }.get()
    }

    /// interpret on messages and a response already in C form (see `prepare(cMessages:count:)`).
    @_spi(Conformance) public func interpret(cMessages: UnsafePointer<UnsafePointer<bsp_message>?>, count: Int,
                                             response: UnsafePointer<bsp_http_response>) throws(PluginFailure) -> [SendOutcome] {
        guard let interpret = plugin.sender?.interpret else {
            throw PluginFailure(.unsupported, "plugin \(plugin.id) does not send messages")
        }
        let call = HostCall(kind: .interpret(messageCount: count), services: services, pluginId: plugin.id)
        let status = call.perform { interpret(handle, $0, cMessages, count, response) }
        guard status == BSP_OK else { throw call.failure(status: status, fallback: "interpret failed") }
        // Outcomes may come in any order; each message must get exactly one.
        var ordered = [SendOutcome?](repeating: nil, count: count)
        for outcome in call.outcomes {
            guard ordered[outcome.messageIndex] == nil else {
                throw contract("interpret gave message \(outcome.messageIndex) two outcomes; exactly one per message is required")
            }
            ordered[outcome.messageIndex] = outcome
        }
        if let missing = ordered.firstIndex(where: { $0 == nil }) {
            throw contract("interpret gave message \(missing) no outcome; exactly one per message is required")
        }
        return ordered.compactMap { $0 }
    }

    /// One verify call. `.pending` means the plugin is waiting on documents
    /// the host must fetch first (see `verify(_:)`).
    public func verifyOnce(_ request: InboundWebhook) -> (status: PluginFailure?, pendingFetches: [String]) {
        request.withCRequest { verifyOnce(cRequest: $0) }
    }

    /// One verify call on a request already in C form (see `prepare(cMessages:count:)`).
    @_spi(Conformance) public func verifyOnce(cRequest: UnsafePointer<bsp_inbound_request>) -> (status: PluginFailure?, pendingFetches: [String]) {
        guard let verify = plugin.webhook?.verify else {
            return (PluginFailure(.unsupported, "plugin \(plugin.id) takes no webhooks"), [])
        }
        let call = HostCall(kind: .verify, services: services, pluginId: plugin.id)
        let status = call.perform { verify(handle, $0, cRequest) }
        guard status != BSP_OK else { return (nil, []) }
        return (call.failure(status: status, fallback: "the webhook is not authentic"), call.pendingFetches)
    }

    /// Verifies a webhook, fetching what the plugin asks for (certificates)
    /// between attempts. Throws the reason it is not authentic.
    public func verify(_ request: InboundWebhook) async throws(PluginFailure) {
        for _ in 0..<3 {
            let (failure, pending) = verifyOnce(request)
            guard let failure else { return }
            guard failure.status == .pending, !pending.isEmpty, let fetcher = services.fetcher else { throw failure }
            for url in Set(pending) { await fetcher.fetch(url) }
        }
        throw PluginFailure(.pending, "the plugin still waits for documents after three fetch rounds")
    }

    /// What one request turned out to be: verified and parsed over a single C view of it, the
    /// receiver's hot path (making the view is a good part of a call's cost).
    public enum WebhookReading: Sendable {
        case authentic([DeliveryEvent])
        /// Authentic, but the plugin cannot read it.
        case unreadable(PluginFailure)
        /// Not verified; `pendingFetches` are documents the plugin waits for (see `verify`).
        case refused(PluginFailure, pendingFetches: [String])
    }

    public func read(_ request: InboundWebhook) -> WebhookReading {
        request.withCRequest { inbound in
            let (failure, pending) = verifyOnce(cRequest: inbound)
            if let failure { return .refused(failure, pendingFetches: pending) }
            do throws(PluginFailure) { return .authentic(try parse(cRequest: inbound)) } catch { return .unreadable(error) }
        }
    }

    public func parse(_ request: InboundWebhook) throws(PluginFailure) -> [DeliveryEvent] {
        try request.withCRequest { inbound in Result { () throws(PluginFailure) in try parse(cRequest: inbound) } }.get()
    }

    /// parse on a request already in C form (see `prepare(cMessages:count:)`).
    @_spi(Conformance) public func parse(cRequest: UnsafePointer<bsp_inbound_request>) throws(PluginFailure) -> [DeliveryEvent] {
        guard let parse = plugin.webhook?.parse else {
            throw PluginFailure(.unsupported, "plugin \(plugin.id) takes no webhooks")
        }
        let call = HostCall(kind: .parse, services: services, pluginId: plugin.id)
        let status = call.perform { parse(handle, $0, cRequest) }
        guard status == BSP_OK else { throw call.failure(status: status, fallback: "the body could not be parsed") }
        return call.events
    }

    private func checkBatch(_ messages: [OutboundMessage]) throws(PluginFailure) {
        guard !messages.isEmpty, messages.count <= maxBatch else {
            throw PluginFailure(.invalidArgument, field: "messages",
                                "\(messages.count) messages given; plugin \(plugin.id) takes 1 to \(maxBatch) per call")
        }
        if let index = messages.firstIndex(where: { $0.channel.bit & channelBits == 0 }) {
            throw PluginFailure(.unsupported, field: "messages[\(index)].channel",
                                "plugin \(plugin.id) does not send on \(messages[index].channel.rawValue)")
        }
    }

    private func contract(_ message: String) -> PluginFailure {
        PluginFailure(.internal, "plugin \(plugin.id) broke the ABI contract: \(message)")
    }
}
