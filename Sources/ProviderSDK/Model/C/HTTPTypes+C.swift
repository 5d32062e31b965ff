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

    /// Passes a borrowed C view of this request to `body`: nothing is copied
    /// but the headers (into one temporary buffer), and the view dies with `body`.
    @inlinable
    public func withCRequest<R>(_ body: (UnsafePointer<bsp_http_request>) throws -> R) rethrows -> R {
        try method.withBSPStr { method in
            try url.withBSPStr { url in
                try headers.withCPairs { headers in
                    try self.body.withUnsafeBufferPointer { bytes in
                        try withUnsafeTemporaryAllocation(of: UInt32.self, capacity: Swift.max(messageIndices.count, 1)) { indices in
                            for (slot, index) in messageIndices.enumerated() {
                                indices[slot] = UInt32(truncatingIfNeeded: index)
                            }
                            var c = bsp_http_request()
                            c.struct_size = bsp_http_request.currentSize
                            c.method = method
                            c.url = url
                            c.headers = headers
                            c.body = bsp_bytes(ptr: bytes.baseAddress, len: bytes.count)
                            c.message_indices = UnsafePointer(indices.baseAddress)
                            c.message_count = messageIndices.count
                            return try withUnsafePointer(to: &c, body)
                        }
                    }
                }
            }
        }
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

    /// Passes a borrowed C view of this result to `body`; the view dies with `body`.
    @inlinable
    public func withCResponse<R>(_ body: (UnsafePointer<bsp_http_response>) throws -> R) rethrows -> R {
        try transportMessage.withBSPStr { message in
            try headers.withCPairs { headers in
                try self.body.withUnsafeBufferPointer { bytes in
                    var c = bsp_http_response()
                    c.struct_size = bsp_http_response.currentSize
                    c.transport = transportFailure?.code ?? BSP_TRANSPORT_OK
                    c.transport_message = message
                    c.status = Int32(clamping: status)
                    c.headers = headers
                    c.body = bsp_bytes(ptr: bytes.baseAddress, len: bytes.count)
                    return try withUnsafePointer(to: &c, body)
                }
            }
        }
    }
}

extension InboundWebhook {
    public init(reading pointer: UnsafePointer<bsp_inbound_request>) {
        let c = bsp_inbound_request.read(from: pointer)
        self.init(method: c.method.string, path: c.path.string, headers: c.headers.pairs, body: c.body.array)
    }

    /// Passes a borrowed C view of this request to `body`; the view dies with `body`.
    @inlinable
    public func withCRequest<R>(_ body: (UnsafePointer<bsp_inbound_request>) throws -> R) rethrows -> R {
        try method.withBSPStr { method in
            try path.withBSPStr { path in
                try headers.withCPairs { headers in
                    try self.body.withUnsafeBufferPointer { bytes in
                        var c = bsp_inbound_request()
                        c.struct_size = bsp_inbound_request.currentSize
                        c.method = method
                        c.path = path
                        c.headers = headers
                        c.body = bsp_bytes(ptr: bytes.baseAddress, len: bytes.count)
                        return try withUnsafePointer(to: &c, body)
                    }
                }
            }
        }
    }
}
