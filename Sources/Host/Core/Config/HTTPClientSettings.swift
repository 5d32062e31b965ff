/// Timeouts and pool limits of the host's HTTP client.
public struct HTTPClientSettings: Sendable, Equatable, Decodable {
    public var connectTimeoutMs: Int
    public var timeoutMs: Int
    public var maxConnectionsPerHost: Int
    /// A response body larger than this is cut off and reported as a transport failure.
    public var maxResponseBytes: Int

    public init(connectTimeoutMs: Int = 5000, timeoutMs: Int = 30000, maxConnectionsPerHost: Int = 32, maxResponseBytes: Int = 8 << 20) {
        self.connectTimeoutMs = connectTimeoutMs
        self.timeoutMs = timeoutMs
        self.maxConnectionsPerHost = maxConnectionsPerHost
        self.maxResponseBytes = maxResponseBytes
    }

    enum CodingKeys: String, CodingKey {
        case connectTimeoutMs = "connect_timeout_ms"
        case timeoutMs = "timeout_ms"
        case maxConnectionsPerHost = "max_connections_per_host"
        case maxResponseBytes = "max_response_bytes"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = HTTPClientSettings()
        connectTimeoutMs = try c.decodeIfPresent(Int.self, forKey: .connectTimeoutMs) ?? defaults.connectTimeoutMs
        timeoutMs = try c.decodeIfPresent(Int.self, forKey: .timeoutMs) ?? defaults.timeoutMs
        maxConnectionsPerHost = try c.decodeIfPresent(Int.self, forKey: .maxConnectionsPerHost) ?? defaults.maxConnectionsPerHost
        maxResponseBytes = try c.decode(.maxResponseBytes, in: 1_024...1 << 30, default: defaults.maxResponseBytes)
    }
}
