import Analytics
import Domain
import Glibc
import HostCore
import Logging
import Messaging
import NIOPosix
import Persistence
import ProviderInstances

/// The one set of pools and clients a process builds for its pipeline roles: PostgreSQL and Redis pools
/// whose blocking calls run on storage threads of their own, one JetStream connection (the message bus),
/// the loaded plugins, the credential vault and the settings. Only the composition root holds it: each
/// role gets the few protocols it needs from here (`RoleFactory`), never this whole.
public final class ProcessResources: Sendable {
    public let settings: PipelineSettings
    public let logger: Logger
    public let threads: NIOThreadPool
    public let database: ConnectionPool<PostgresConnection>
    /// The webhook path's config reads (`webhookConfigInstances`): a pool of their own whose callers wait at
    /// most `lookupWaitMs` for a connection, so ids that strangers send can neither queue without end nor
    /// hold the pipeline's connections, and an unreachable database is an answer (503), not a hang.
    public let lookups: ConnectionPool<PostgresConnection>
    public static let lookupConnections = 2
    public static let lookupWaitMs = 2_000
    public let redis: ConnectionPool<RedisConnection>
    public let bus: MessageBus
    public let hot: DeliveryState
    public let ledger: BatchLedger
    public let plugins: PluginRegistry
    public let vault: CredentialVault
    /// The deployment's own provider accounts, for managed send-configs.
    public let managed: ManagedInstances
    public let buckets: RateBuckets
    public let tenants: TenantRegistry
    /// Events for the analytics store; one buffer per process, run as a service of its own.
    public let events: EventWriter
    /// What the webhook processor remembers between rounds.
    public let memory: WebhookMemory
    /// A name for this process in leases and logs.
    public let processName: String

    public init(databaseURL: String, redisURL: String, natsURL: String, nats: NATSNamespace, masterKey: [UInt8], redisPrefix: String,
                plugins: PluginRegistry, settings: PipelineSettings, webhookLanes: Int = 0, managed: ManagedInstances = ManagedInstances(),
                limits: SendRateLimits = SendRateLimits(), analytics: AnalyticsSettings = AnalyticsSettings(),
                clickhouse: ClickHouseClient? = nil, logger: Logger) throws {
        let vault = try CredentialVault(masterKey: masterKey)
        self.settings = settings
        self.logger = logger
        self.plugins = plugins
        self.vault = vault
        self.managed = managed
        // `webhookLanes`: the webhook processor's lanes in this process, 0 without that role. Each holds a PostgreSQL
        // connection for its round's transaction and makes a few Redis calls a round; two more for the rest.
        let databaseConnections = max(4, webhookLanes + 2), redisConnections = max(4, settings.senderLanes + 2, webhookLanes + 2)
        // Storage threads, plus one per sender lane and the priority lane, one for the processor and one per
        // webhook processor lane, whose JetStream fetches block, and one for the event writer's disk.
        threads = NIOThreadPool(numberOfThreads: databaseConnections + Self.lookupConnections + redisConnections + settings.senderLanes
                                    + webhookLanes + 6)
        threads.start()
        database = StorePools.postgres(url: databaseURL, capacity: databaseConnections, threads: threads)
        // A read stuck behind a lock or a dead server ends in time too, freeing its connection.
        lookups = StorePools.postgres(url: databaseURL, capacity: Self.lookupConnections, threads: threads, waitLimitMs: Self.lookupWaitMs,
                                      statementTimeoutMs: Self.lookupWaitMs)
        redis = StorePools.redis(url: redisURL, capacity: redisConnections, threads: threads)
        let jetStream = try JetStream(url: natsURL, namespace: nats)
        try Streams.ensure(jetStream)
        bus = MessageBus(jetStream: jetStream, threads: threads)
        hot = DeliveryState(redis: redis, prefix: DeliveryState.prefix(for: redisPrefix))
        ledger = BatchLedger(database: database)
        buckets = RateBuckets(redis: redis, keyPrefix: redisPrefix, limits: limits)
        tenants = TenantRegistry(redis: redis, prefix: hot.prefix)
        events = EventWriter(client: clickhouse, settings: analytics, threads: threads, logger: logger)
        memory = WebhookMemory(redis: redis, prefix: hot.prefix)
        processName = "\(ProcessIdentity.host)-\(ProcessIdentity.pid)-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// The send-configs' plugin instances, made with `services`.
    public func sendConfigInstances(services: HostServices) -> SendConfigInstances {
        SendConfigInstances(ledger: ledger, plugins: plugins, vault: vault, services: services, managed: managed)
    }

    /// The send-configs' plugin instances for the webhook processor: the main pool, and no belief in "no such
    /// config" (its retries wait for one), so strangers' lookups at the receiver never hold its rounds back.
    public func webhookProcessorConfigInstances(services: HostServices) -> SendConfigInstances {
        SendConfigInstances(ledger: ledger, plugins: plugins, vault: vault, services: services, managed: managed, missingTTLMs: 0)
    }

    /// The send-configs' plugin instances for the webhook receiver, read through `lookups`.
    public func webhookConfigInstances(services: HostServices) -> SendConfigInstances {
        SendConfigInstances(ledger: BatchLedger(database: lookups), plugins: plugins, vault: vault, services: services, managed: managed)
    }

    /// The process id within a process name (`processName`), as a lease's holder shows it.
    public static func pid(inProcessName name: String) -> Int32? {
        let parts = name.split(separator: "-")
        return parts.count >= 3 ? Int32(parts[parts.count - 2]) : nil
    }

    public func lease(_ role: String) -> LeaderLease {
        LeaderLease(redis: redis, prefix: hot.prefix, role: role, holder: processName, ttlMs: settings.leaseMs)
    }

    public func shutdown() async throws {
        try await threads.shutdownGracefully()
    }
}

enum ProcessIdentity {
    static let pid = getpid()
    static let host: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()
}

