/// How often one provider's API misbehaves. Rates are fractions of requests
/// (0…1, adding up to at most 1); a request suffers at most one fault.
public struct FaultSettings: Sendable, Decodable {
    /// 429 with the provider's throttling error and a `retry-after`.
    public var rateLimited = 0.0
    /// 500/502/503 with the provider's internal-error shape.
    public var serverError = 0.0
    /// The request is served normally after `slowMilliseconds`.
    public var slow = 0.0
    public var slowMilliseconds = 1_500
    /// The connection is closed before any response: nothing was sent.
    public var dropped = 0.0
    /// The message is accepted, then the connection is closed before the response:
    /// the client cannot tell, and a retry without idempotency sends twice.
    public var lostResponse = 0.0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case rateLimited = "rate_limited", serverError = "server_error", slow, slowMilliseconds = "slow_ms"
        case dropped, lostResponse = "lost_response"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        rateLimited = try c.number(.rateLimited, or: rateLimited)
        serverError = try c.number(.serverError, or: serverError)
        slow = try c.number(.slow, or: slow)
        slowMilliseconds = try c.value(.slowMilliseconds, or: slowMilliseconds)
        dropped = try c.number(.dropped, or: dropped)
        lostResponse = try c.number(.lostResponse, or: lostResponse)
    }
}

/// `[faults.resend]`, `[faults.ses]`, `[faults.telnyx]`.
public struct FaultTable: Sendable, Decodable {
    public var resend = FaultSettings()
    public var ses = FaultSettings()
    public var telnyx = FaultSettings()

    public init() {}

    enum CodingKeys: String, CodingKey { case resend, ses, telnyx }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        resend = try c.value(.resend, or: resend)
        ses = try c.value(.ses, or: ses)
        telnyx = try c.value(.telnyx, or: telnyx)
    }

    public subscript(provider: SandboxProvider) -> FaultSettings {
        switch provider {
        case .resend: resend
        case .ses: ses
        case .telnyx: telnyx
        case .receiver: FaultSettings()
        }
    }
}
