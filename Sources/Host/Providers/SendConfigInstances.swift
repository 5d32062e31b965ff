import Domain
import HostCore
import NIOConcurrencyHelpers
import Persistence
import ProviderModel

/// A plugin instance per send-config, made from its credentials (unsealed once)
/// and cached, or the deployment's own account for a managed config; a config
/// changed since is made again after at most `recheckMs`. A config that cannot
/// send says why, in words for the batch.
///
/// Bounded by construction, since the receiver looks up whatever id a request names: at most
/// `capacity` configs are cached, and an id with no config is remembered as missing for
/// `missingTTLMs` in a table of its own (so a flood of random ids costs one read each per
/// `missingTTLMs`, and never evicts a config in use).
public final class SendConfigInstances: Sendable {
    /// What sends a config's messages, and what limits it.
    public struct Route: Sendable {
        public var instance: PluginInstance
        public var sendConfigID: String
        public var provider: String
        public var managed: Bool
        public var rateLimit: Int?
        /// The configs its unsent messages go through while its provider is down, in order.
        public var fallbacks: [String] = []
    }

    private struct Cached {
        var version: String
        var result: Result<Route, SendConfigProblem>
        var checkedAtMs: Int64
    }

    private let ledger: BatchLedger
    private let plugins: PluginRegistry
    private let vault: CredentialVault
    private let services: HostServices
    private let managed: ManagedInstances
    private let recheckMs: Int64
    private let cache: NIOLockedValueBox<BoundedTable<String, Cached>>
    /// Ids found to have no config, with when that answer expires.
    private let missing: NIOLockedValueBox<BoundedTable<String, Int64>>

    public static let capacity = 10_000
    public static let missingCapacity = 10_000
    public static let missingTTLMs: Int64 = 30_000
    /// How long "no such config" is believed: `missingTTLMs` where strangers name ids (the receiver), 0 where
    /// only stored webhooks do (the webhook processor, whose retries wait for a config that appears).
    private let missingTTLMs: Int64

    public init(ledger: BatchLedger, plugins: PluginRegistry, vault: CredentialVault, services: HostServices,
                managed: ManagedInstances = ManagedInstances(), recheckMs: Int64 = 5_000, capacity: Int = SendConfigInstances.capacity,
                missingTTLMs: Int64 = SendConfigInstances.missingTTLMs) {
        self.missingTTLMs = missingTTLMs
        cache = NIOLockedValueBox(BoundedTable(capacity: capacity))
        missing = NIOLockedValueBox(BoundedTable(capacity: Self.missingCapacity))
        self.ledger = ledger
        self.managed = managed
        self.plugins = plugins
        self.vault = vault
        self.services = services
        self.recheckMs = recheckMs
    }

    /// The config's instance; a storage failure is thrown, a config that cannot send is `.failure`.
    public func instance(sendConfigID: String) async throws -> Result<PluginInstance, SendConfigProblem> {
        try await route(sendConfigID: sendConfigID).map(\.instance)
    }

    /// The config's instance and limits; a storage failure is thrown, a config that cannot send is `.failure`.
    public func route(sendConfigID: String) async throws -> Result<Route, SendConfigProblem> {
        let now = SystemClock.nowMilliseconds
        if let fresh = freshRoute(sendConfigID: sendConfigID, now: now) { return fresh }
        guard let config = try await ledger.sendConfig(id: sendConfigID) else {
            if missingTTLMs > 0 { missing.withLockedValue { $0[sendConfigID] = now + missingTTLMs } }
            return .failure(Self.noSuchConfig(sendConfigID))
        }
        missing.withLockedValue { $0[sendConfigID] = nil }
        if let cached = cache.withLockedValue({ $0[sendConfigID] }), cached.version == config.version {
            cache.withLockedValue { $0[sendConfigID]?.checkedAtMs = now }
            return cached.result
        }
        let result = make(config).map {
            Route(instance: $0, sendConfigID: sendConfigID, provider: config.provider, managed: config.managed, rateLimit: config.rateLimit,
                  fallbacks: config.fallbacks)
        }
        cache.withLockedValue { $0[sendConfigID] = Cached(version: config.version, result: result, checkedAtMs: now) }
        return result
    }

    /// The config's instance when the cache answers for it without storage (checked within `recheckMs`);
    /// nil when it must be read: for callers on an event loop, which take the async path only then.
    public func cachedInstance(sendConfigID: String) -> Result<PluginInstance, SendConfigProblem>? {
        freshRoute(sendConfigID: sendConfigID, now: SystemClock.nowMilliseconds)?.map(\.instance)
    }

    private func freshRoute(sendConfigID: String, now: Int64) -> Result<Route, SendConfigProblem>? {
        if let expires = missing.withLockedValue({ $0[sendConfigID] }), now < expires { return .failure(Self.noSuchConfig(sendConfigID)) }
        guard let cached = cache.withLockedValue({ $0[sendConfigID] }), now - cached.checkedAtMs < recheckMs else { return nil }
        return cached.result
    }

    private static func noSuchConfig(_ id: String) -> SendConfigProblem {
        SendConfigProblem("the send-config \(id) no longer exists")
    }

    private func make(_ config: BatchLedger.SendConfig) -> Result<PluginInstance, SendConfigProblem> {
        guard !config.deleted else { return .failure(SendConfigProblem("the send-config was deleted")) }
        guard let plugin = plugins[config.provider] else {
            return .failure(SendConfigProblem("the \(config.provider) plugin is not loaded in this deployment"))
        }
        if config.managed {
            return managed[provider: config.provider].map { .success($0) }
                ?? .failure(SendConfigProblem("this deployment no longer offers managed sending through \(config.provider)"))
        }
        let credentials: [String: JSONValue]
        do { credentials = try vault.open(ciphertextHex: config.sealed, nonceHex: config.nonce) } catch {
            return .failure(SendConfigProblem(error.description))
        }
        let entries = credentials.keys.sorted().map { key in
            KeyValue(key, credentials[key]!.stringValue ?? credentials[key]!.compactText)
        }
        do {
            return .success(try plugin.makeInstance(configuration: entries, services: services))
        } catch {
            return .failure(SendConfigProblem("the \(config.provider) plugin refuses the send-config's credentials: \(error.description)"))
        }
    }
}

/// Why a send-config cannot send: shown on the batch and on its recipients.
public struct SendConfigProblem: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
