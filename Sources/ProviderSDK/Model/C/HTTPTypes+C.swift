import BatchSenderABI

extension PreparedRequest {
    public init(reading pointer: UnsafePointer<bsp_http_request>) {
        let c = bsp_http_request.read(from: pointer)
        var indices: [Int] = []
        if c.message_count > 0, let base = c.message_indices {
            indices = UnsafeBufferPointer(start: base, count: c.message_count).map(Int.init)
        }
        self.init(method: c.method.string, url: c.url.string, headers: c.headers.pairs, body: c.body.array,
                  messageIndices: indices)
    }

    public func cRequest(in arena: CArena) -> UnsafePointer<bsp_http_request> {
        var c = bsp_http_request()
        c.struct_size = bsp_http_request.currentSize
        c.method = arena.str(method)
        c.url = arena.str(url)
        c.headers = arena.pairs(headers)
        c.body = arena.bytes(body)
        let indices = arena.allocate(UInt32.self, count: messageIndices.count)
        for (slot, index) in messageIndices.enumerated() { indices[slot] = UInt32(truncatingIfNeeded: index) }
        c.message_indices = UnsafePointer(indices)
        c.message_count = messageIndices.count
        return UnsafePointer(arena.store(c))
    }
}

extension TransportFailure {
    public init?(code: Int32) {
        switch code {
        case BSP_TRANSPORT_TIMEOUT: self = .timeout
        case BSP_TRANSPORT_CONNECT: self = .connect
        case BSP_TRANSPORT_TLS: self = .tls
        case BSP_TRANSPORT_IO: self = .io
        case BSP_TRANSPORT_OK: return nil
        default: self = .other
        }
    }

    public var code: Int32 {
        switch self {
        case .timeout: BSP_TRANSPORT_TIMEOUT
        case .connect: BSP_TRANSPORT_CONNECT
        case .tls: BSP_TRANSPORT_TLS
        case .io: BSP_TRANSPORT_IO
        case .other: BSP_TRANSPORT_OTHER
        }
    }
}

extension HTTPResult {
    public init(reading pointer: UnsafePointer<bsp_http_response>) {
        let c = bsp_http_response.read(from: pointer)
        if let failure = TransportFailure(code: c.transport) {
            self.init(failure: failure, message: c.transport_message.string)
        } else {
            self.init(status: Int(c.status), headers: c.headers.pairs, body: c.body.array)
        }
    }

    public func cResponse(in arena: CArena) -> UnsafePointer<bsp_http_response> {
        var c = bsp_http_response()
        c.struct_size = bsp_http_response.currentSize
        c.transport = transportFailure?.code ?? BSP_TRANSPORT_OK
        c.transport_message = arena.str(transportMessage)
        c.status = Int32(clamping: status)
        c.headers = arena.pairs(headers)
        c.body = arena.bytes(body)
        return UnsafePointer(arena.store(c))
    }
}

extension InboundWebhook {
    public init(reading pointer: UnsafePointer<bsp_inbound_request>) {
        let c = bsp_inbound_request.read(from: pointer)
        self.init(method: c.method.string, path: c.path.string, headers: c.headers.pairs, body: c.body.array)
    }

    public func cRequest(in arena: CArena) -> UnsafePointer<bsp_inbound_request> {
        var c = bsp_inbound_request()
        c.struct_size = bsp_inbound_request.currentSize
        c.method = arena.str(method)
        c.path = arena.str(path)
        c.headers = arena.pairs(headers)
        c.body = arena.bytes(body)
        return UnsafePointer(arena.store(c))
    }
}
