/// Timeouts and pool limits of the host's HTTP client.
public struct HTTPClientSettings: Sendable, Equatable, Decodable {
    public var connectTimeoutMs: Int
    public var timeoutMs: Int
    public var maxConnectionsPerHost: Int

    public init(connectTimeoutMs: Int = 5000, timeoutMs: Int = 30000, maxConnectionsPerHost: Int = 32) {
        self.connectTimeoutMs = connectTimeoutMs
        self.timeoutMs = timeoutMs
        self.maxConnectionsPerHost = maxConnectionsPerHost
    }

    enum CodingKeys: String, CodingKey {
        case connectTimeoutMs = "connect_timeout_ms"
        case timeoutMs = "timeout_ms"
        case maxConnectionsPerHost = "max_connections_per_host"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = HTTPClientSettings()
        connectTimeoutMs = try c.decodeIfPresent(Int.self, forKey: .connectTimeoutMs) ?? defaults.connectTimeoutMs
        timeoutMs = try c.decodeIfPresent(Int.self, forKey: .timeoutMs) ?? defaults.timeoutMs
        maxConnectionsPerHost = try c.decodeIfPresent(Int.self, forKey: .maxConnectionsPerHost) ?? defaults.maxConnectionsPerHost
    }
}
