import Messaging
import HostCore
import ProviderModel

/// How the API serves: where, with which providers, and its limits.
public struct APIConfiguration: Sendable {
    public var host: String = "127.0.0.1"
    public var port: Int = 6001
    /// The loaded plugins' descriptors, by provider id: send-configs are checked against these.
    public var providers: [String: PluginDescriptor] = [:]
    /// The loaded plugins themselves, by provider id: a BYOK send-config's credentials are handed to its
    /// plugin's own `create` before they are stored, so that what the plugin would refuse is refused then.
    public var plugins: [String: LoadedPlugin] = [:]
    /// Providers for which the deployment holds its own credentials (send-configs in `managed` mode).
    public var managedProviders: Set<String> = []
    /// Where the one-click unsubscribe links of bulk email point (`[unsubscribe]`), which this API answers.
    public var unsubscribe = UnsubscribeSettings()
    /// The receiver's public base URL: a send-config's own webhook URL is under it.
    public var webhookBaseURL = "http://127.0.0.1:6002"
    public var rateLimit = RateLimitSettings()
    /// The deployment's sending limits (`[limits]`), which the admin API shows and overrides.
    public var sendLimits = SendRateLimits()
    /// The operators' admin token; nil turns the admin API off (503).
    public var adminToken: String?
    public var maxRecipientsPerBatch = 1_000_000
    /// PostgreSQL connections (each with a storage thread of its own).
    public var databaseConnections = 8
    public var redisConnections = 4
    public var poolWaitMs = 5_000
    public var bodyTimeoutMs = 300_000
    public var idleTimeoutMs = 30_000
    public var allowTestOptions = false
    public var trustedProxies: [IPNetwork] = []
    /// Where sends may go: a send-config's URL options are checked against it when stored.
    public var outbound = OutboundPolicy()
    /// Prefix of every Redis key the API writes, so that deployments (or tests) sharing a Redis stay apart.
    public var redisKeyPrefix = DeploymentSettings().redisKeyPrefix
    /// The deployment's streams on NATS (`[deployment]`, `[nats]`): where priority messages go.
    public var nats = NATSNamespace.standard
    /// The ClickHouse database when CLICKHOUSE_URL names none.
    public var analyticsDatabase = DeploymentSettings().analyticsDatabase

    public init() {}

    /// The limits an operator set in the host config's `[api]` table.
    public mutating func apply(_ settings: APISettings) {
        rateLimit = RateLimitSettings(perKey: settings.rateLimitPerKey, perAddress: settings.rateLimitPerAddress,
                                      windowMilliseconds: settings.rateLimitWindowMs)
        maxRecipientsPerBatch = settings.maxRecipientsPerBatch
        databaseConnections = settings.databaseConnections
        redisConnections = settings.redisConnections
        poolWaitMs = settings.poolWaitMs
        bodyTimeoutMs = settings.bodyTimeoutMs
        idleTimeoutMs = settings.idleTimeoutMs
        allowTestOptions = settings.allowTestOptions
        trustedProxies = settings.trustedProxies
        redisKeyPrefix = settings.redisKeyPrefix
    }

    /// Which deployment the API serves (`[deployment]`, `[nats]`).
    public mutating func apply(_ deployment: DeploymentSettings, nats settings: NATSSettings) {
        nats = NATSNamespace(deployment: deployment, nats: settings)
        analyticsDatabase = deployment.analyticsDatabase
    }
}

/// Sliding-window limits per API key and per client address.
public struct RateLimitSettings: Sendable {
    public var perKey: Int = 1_200
    public var perAddress: Int = 2_400
    public var windowMilliseconds: Int = 60_000

    public init(perKey: Int = 1_200, perAddress: Int = 2_400, windowMilliseconds: Int = 60_000) {
        self.perKey = perKey
        self.perAddress = perAddress
        self.windowMilliseconds = windowMilliseconds
    }
}
