/// How fast the deployment sends: the host config's `[limits]` table. Every limit is in messages per
/// second. A BYOK send-config sends at its own `rateLimit`, or its provider's `byok` limit here, or the rate
/// its plugin declares (`providerDefaults`, from the descriptors), or `default`; every
/// managed send-config of a provider shares one bucket at the provider's `managed` limit; `system`
/// caps the whole deployment. The admin API overrides any of them live.
public struct SendRateLimits: Sendable, Equatable, Decodable {
    /// The whole deployment's limit; nil when there is none.
    public var system: Int?
    /// A BYOK send-config's limit when it sets none, per provider id, as the operator set it.
    public var byok: [String: Int]
    /// The rates the loaded plugins declare (ABI 1.1), per provider id, in the provider's own unit: not read
    /// from the config, filled in by the process that loaded the plugins.
    public var providerDefaults: [String: TokenRate] = [:]
    /// The shared bucket of each provider's managed account.
    public var managed: [String: Int]
    /// Either, for a provider neither table names.
    public var fallback: Int

    /// The largest limit a setting or the admin API takes: well past what one deployment sends.
    public static let range = 1...10_000_000

    /// A managed account's shared limit when `[limits] managed` names none.
    public static let defaultManaged = 100

    public init(system: Int? = nil, byok: [String: Int] = [:], managed: [String: Int] = [:], fallback: Int = 100) {
        self.system = system
        self.byok = byok
        self.managed = managed
        self.fallback = fallback
    }

    /// A `[limits]` table that lets every provider send as fast as the pipeline can: for the sandbox, which
    /// takes any rate, in the benchmarks and tests that measure the pipeline rather than a provider's limit.
    public static let unlimitedTOML = """
        [limits]
        default = 10000000
        byok = { resend = 10000000, ses = 10000000, telnyx = 10000000, custom-webhook = 10000000 }
        managed = { resend = 10000000, ses = 10000000, telnyx = 10000000, custom-webhook = 10000000 }
        """

    /// The limit of a send-config that names none of its own, in messages per second.
    public func configDefault(provider: String) -> Int { configDefaultRate(provider: provider).messagesPerSecond }
    /// The same limit as its bucket counts it: a provider that counts requests is paced in requests.
    public func configDefaultRate(provider: String) -> TokenRate {
        if let limit = byok[provider] { return TokenRate(perSecond: limit) }
        return providerDefaults[provider] ?? TokenRate(perSecond: fallback)
    }
    /// The shared limit of a provider's managed account.
    public func managedLimit(provider: String) -> Int { managed[provider] ?? Self.defaultManaged }

    enum CodingKeys: String, CodingKey { case system, byok, managed, fallback = "default" }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let range = Self.range
        system = try c.decodeIfPresent(Int.self, forKey: .system)
        if let system, !range.contains(system) {
            throw DecodingError.dataCorruptedError(forKey: .system, in: c, debugDescription: "must be from 1 to \(range.upperBound) messages/s, not \(system)")
        }
        fallback = try c.decode(.fallback, in: range, default: 100)
        func table(_ key: CodingKeys) throws -> [String: Int] {
            let given = try c.decodeIfPresent([String: Int].self, forKey: key) ?? [:]
            for (provider, limit) in given where !range.contains(limit) {
                throw DecodingError.dataCorruptedError(forKey: key, in: c,
                                                       debugDescription: "\(provider) must be from 1 to \(range.upperBound) messages/s, not \(limit)")
            }
            return given
        }
        byok = try table(.byok)
        managed = try table(.managed)
    }
}

/// A rate as a bucket counts it: `perSecond` tokens, each standing for up to `perToken` messages: 1 for a
/// limit in messages, the provider's largest batch for one in requests (one request carries up to that many).
public struct TokenRate: Sendable, Equatable {
    public var perSecond: Int
    public var perToken: Int

    public init(perSecond: Int, perToken: Int = 1) {
        self.perSecond = perSecond
        self.perToken = max(1, perToken)
    }

    /// The most messages a second this rate lets through, within the settings' range.
    public var messagesPerSecond: Int {
        let (product, overflow) = perSecond.multipliedReportingOverflow(by: perToken)
        return overflow ? SendRateLimits.range.upperBound : min(product, SendRateLimits.range.upperBound)
    }
}
