/// The sender API's limits as an operator sets them in the host config's `[api]` table.
/// Every key is optional; a value out of its range is refused naming the key.
public struct APISettings: Sendable, Equatable, Decodable {
    public var rateLimitPerKey = 1_200
    public var rateLimitPerAddress = 2_400
    public var rateLimitWindowMs = 60_000
    public var maxRecipientsPerBatch = 1_000_000
    public var databaseConnections = 8
    public var redisConnections = 4
    /// How long a request waits for a pooled connection before it is answered 503 with Retry-After.
    public var poolWaitMs = 5_000
    /// The deployment's own Redis keys start with it: `[deployment] name` and a colon unless set here.
    public var redisKeyPrefix = DeploymentSettings().redisKeyPrefix
    /// Whether the file set `redis_key_prefix` (which then wins over the deployment's name).
    public var redisKeyPrefixGiven = false
    /// How long a client may take to send a request's whole body (an upload of a million recipients
    /// included) before it is answered 408.
    public var bodyTimeoutMs = 300_000
    /// How long a connection may stay open without a request, or with a request whose head has not
    /// all arrived, before the server closes it.
    public var idleTimeoutMs = 30_000
    /// Whether send-configs may set a plugin's test-only options (keys named `insecure_…`, such as SES's
    /// `insecure_test_cert_url_prefix`). Off: no tenant can weaken a plugin through the API.
    public var allowTestOptions = false
    /// Reverse proxies in front of the API and the dashboard: from them, `X-Forwarded-For` names the client
    /// whose per-address rate limit and sign-in limits apply (`ClientAddress`), and `X-Forwarded-Proto: https`
    /// makes the dashboard's cookies `Secure` and `__Host-`. Empty: the peer's address is the client's.
    public var trustedProxies: [IPNetwork] = []

    public init() {}

    enum CodingKeys: String, CodingKey {
        case rateLimitPerKey = "rate_limit_per_key"
        case rateLimitPerAddress = "rate_limit_per_address"
        case rateLimitWindowMs = "rate_limit_window_ms"
        case maxRecipientsPerBatch = "max_recipients_per_batch"
        case databaseConnections = "database_connections"
        case redisConnections = "redis_connections"
        case poolWaitMs = "pool_wait_ms"
        case redisKeyPrefix = "redis_key_prefix"
        case bodyTimeoutMs = "body_timeout_ms"
        case idleTimeoutMs = "idle_timeout_ms"
        case allowTestOptions = "allow_test_options"
        case trustedProxies = "trusted_proxies"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        rateLimitPerKey = try c.decode(.rateLimitPerKey, in: 1...10_000_000, default: rateLimitPerKey)
        rateLimitPerAddress = try c.decode(.rateLimitPerAddress, in: 1...10_000_000, default: rateLimitPerAddress)
        rateLimitWindowMs = try c.decode(.rateLimitWindowMs, in: 1_000...86_400_000, default: rateLimitWindowMs)
        maxRecipientsPerBatch = try c.decode(.maxRecipientsPerBatch, in: 1...10_000_000, default: maxRecipientsPerBatch)
        databaseConnections = try c.decode(.databaseConnections, in: 1...256, default: databaseConnections)
        redisConnections = try c.decode(.redisConnections, in: 1...256, default: redisConnections)
        poolWaitMs = try c.decode(.poolWaitMs, in: 10...600_000, default: poolWaitMs)
        bodyTimeoutMs = try c.decode(.bodyTimeoutMs, in: 100...3_600_000, default: bodyTimeoutMs)
        idleTimeoutMs = try c.decode(.idleTimeoutMs, in: 100...3_600_000, default: idleTimeoutMs)
        allowTestOptions = try c.decodeIfPresent(Bool.self, forKey: .allowTestOptions) ?? false
        trustedProxies = try (c.decodeIfPresent([String].self, forKey: .trustedProxies) ?? []).map { text in
            guard let network = IPNetwork(text) else {
                throw DecodingError.dataCorruptedError(forKey: .trustedProxies, in: c, debugDescription: "\"\(text)\" is not a network such as 10.0.0.0/8")
            }
            return network
        }
        if let prefix = try c.decodeIfPresent(String.self, forKey: .redisKeyPrefix) {
            guard !prefix.isEmpty, prefix.utf8.count <= 64, !prefix.contains(where: \.isWhitespace) else {
                throw DecodingError.dataCorruptedError(forKey: .redisKeyPrefix, in: c, debugDescription: "must be 1 to 64 characters without spaces")
            }
            redisKeyPrefix = prefix
            redisKeyPrefixGiven = true
        }
    }
}
