/// An HTTP request a plugin wants the host to send (http.h bsp_http_request).
public struct PreparedRequest: Sendable, Equatable {
    public var method: String
    public var url: String
    public var headers: [KeyValue]
    public var body: [UInt8]
    /// Indices into the messages given to prepare that this request carries.
    public var messageIndices: [Int]

    public init(method: String, url: String, headers: [KeyValue], body: [UInt8], messageIndices: [Int]) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.messageIndices = messageIndices
    }
}

/// Why a request got no HTTP response (http.h BSP_TRANSPORT_*).
public enum TransportFailure: String, Sendable, Equatable, Codable, CaseIterable {
    case timeout, connect, tls, io, other
}

/// What came back for one request: a response, or a transport failure.
public struct HTTPResult: Sendable, Equatable {
    public var status: Int
    public var headers: [KeyValue]
    public var body: [UInt8]
    public var transportFailure: TransportFailure?
    public var transportMessage: String

    public init(status: Int, headers: [KeyValue] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
        self.transportFailure = nil
        self.transportMessage = ""
    }

    public init(failure: TransportFailure, message: String) {
        self.status = 0
        self.headers = []
        self.body = []
        self.transportFailure = failure
        self.transportMessage = message
    }
}

extension HTTPResult {
    /// The `retry-after` header in milliseconds: whole seconds, or an HTTP date
    /// measured from `nowMs` (the host's clock). A time already past reads as 0,
    /// anything longer than `SendOutcome.maximumRetryAfterMs` (a day) as that: a hostile server's
    /// `retry-after: 9223372036854775807` parks the messages for a day, not forever; no value can overflow.
    public func retryAfterMs(nowMs: Int64) -> Int64? {
        guard let value = headers.first(named: "retry-after")?.trimmingCharacters(in: .whitespaces) else { return nil }
        let bounds: ClosedRange<Int64> = 0...SendOutcome.maximumRetryAfterMs
        switch Result(catching: { () throws(BoundedInteger.Refusal) in try BoundedInteger.parse(value, in: .min ... .max) }) {
        case .success(let seconds): return BoundedInteger.product(seconds, 1000, clampedTo: bounds)
        case .failure(.outOfRange(_)): return value.hasPrefix("-") ? 0 : bounds.upperBound
        case .failure(.notAnInteger): break
        }
        guard let date = HTTPDate.parse(value) else { return nil }
        let (wait, overflowed) = BoundedInteger.product(date, 1000, clampedTo: .min ... .max).subtractingReportingOverflow(nowMs)
        return overflowed ? (nowMs < 0 ? bounds.upperBound : 0) : Swift.min(Swift.max(wait, 0), bounds.upperBound)
    }
}

/// An inbound webhook request as the host's server received it (http.h bsp_inbound_request).
public struct InboundWebhook: Sendable, Equatable {
    public var method: String
    public var path: String
    /// Names lower-case, in arrival order.
    public var headers: [KeyValue]
    /// The exact bytes received.
    public var body: [UInt8]

    public init(method: String = "POST", path: String = "/", headers: [KeyValue], body: [UInt8]) {
        self.method = method
        self.path = path
        // Hosts hand over lower-case names already: keep their array unless a name needs re-casing.
        func isMixedCase(_ name: String) -> Bool {
            name.withUTF8Buffer { $0.contains { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) } }
        }
        self.headers = headers.contains { isMixedCase($0.name) }
            ? headers.map { isMixedCase($0.name) ? KeyValue($0.name.lowercased(), $0.value) : $0 }
            : headers
        self.body = body
    }

    public func header(_ name: String) -> String? { headers.first(named: name) }
}
