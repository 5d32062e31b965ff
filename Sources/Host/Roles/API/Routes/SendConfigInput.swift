import Domain
import Foundation
import HostCore
import Logging
import Messaging
import Persistence
import ProviderInstances
import ProviderModel
import Services

/// A send-config as a request describes it, checked against the provider's
/// plugin: the provider is loaded, the channel is one it sends on, the
/// credentials satisfy its declared config keys, the defaults fit the channel.
struct SendConfigInput: Sendable {
    var name: String
    var provider: String
    var mode: String
    var channel: String
    var credentials: [String: JSONValue]
    var rateLimit: Int?
    var defaults: [String: String]
    /// Ids of the user's configs its unsent messages go through while its provider is down, in order.
    var fallbacks: [String] = []

    static let members: Set<String> = ["name", "provider", "mode", "channel", "credentials", "rateLimit", "defaults", "fallbacks"]
    /// How many fallbacks a config names at most: each is tried in turn while the ones before it are down.
    static let maxFallbacks = 3
    static let defaultKeys: Set<String> = ["from", "replyTo", "messagingProfileId"]
    /// What a plugin logs while its credentials are checked.
    static let pluginLogger = Logger(label: "batchsender.api.plugins")

    var defaultsJSON: String { JSONValue.object(defaults.mapValues { .string($0) }).compactText }

    /// What the table stores of it besides the credentials.
    var fields: SendConfigs.Fields {
        SendConfigs.Fields(name: name, provider: provider, mode: mode, channel: channel, rateLimit: rateLimit, defaultsJSON: defaultsJSON,
                           fallbacks: fallbacks)
    }

    /// A new config from a POST body.
    init(creating fields: JSONFields, configuration: APIConfiguration) throws(APIError) {
        name = try fields.requiredString("name", maxLength: 100)
        provider = try fields.requiredString("provider", maxLength: 64)
        guard let descriptor = configuration.providers[provider] else {
            let known = configuration.providers.keys.sorted().joined(separator: ", ")
            throw APIError.invalid("provider", "no loaded plugin has the id \"\(provider)\"; loaded: \(known)")
        }
        mode = try fields.string("mode", maxLength: 16) ?? "byok"
        switch mode {
        case "byok": break
        case "managed":
            guard configuration.managedProviders.contains(provider) else {
                throw APIError.forbidden("this deployment offers no managed sending through \(provider); use mode \"byok\" with your own credentials",
                                         field: "mode")
            }
        default: throw APIError.invalid("mode", "must be \"byok\" or \"managed\"")
        }
        if let requested = try fields.string("channel", maxLength: 16) {
            guard let channel = Channel(rawValue: requested), descriptor.channels.contains(channel) else {
                throw APIError.invalid("channel", "\(provider) sends on \(descriptor.channels.map(\.rawValue).joined(separator: ", ")), not \"\(requested)\"")
            }
            self.channel = requested
        } else {
            guard descriptor.channels.count == 1 else {
                throw APIError.invalid("channel", "\(provider) sends on several channels; name one: \(descriptor.channels.map(\.rawValue).joined(separator: ", "))")
            }
            channel = descriptor.channels[0].rawValue
        }
        credentials = try fields.objectValue("credentials") ?? [:]
        rateLimit = try fields.integer("rateLimit", range: 1...1_000_000)
        defaults = [:]
        try applyDefaults(fields)
        fallbacks = try Self.fallbacks(fields) ?? []
        try checkCredentials(descriptor, configuration: configuration)
    }

    /// A stored config changed by a PATCH body: name, rate limit and defaults replace, credentials merge
    /// (a member set to null is removed); provider, mode and channel are fixed once created.
    init(updating current: SendConfigInput, with fields: JSONFields, configuration: APIConfiguration) throws(APIError) {
        self = current
        for fixed in ["provider", "mode", "channel"] where fields.object[fixed] != nil {
            throw APIError.invalid(fixed, "cannot be changed; create a new send-config instead")
        }
        if fields.object["name"] != nil { name = try fields.requiredString("name", maxLength: 100) }
        if fields.object["rateLimit"] != nil { rateLimit = try fields.integer("rateLimit", range: 1...1_000_000) }
        if fields.object["defaults"] != nil { defaults = [:]; try applyDefaults(fields) }
        if let named = try Self.fallbacks(fields) { fallbacks = named }
        if let changes = try fields.objectValue("credentials") {
            for (key, value) in changes { credentials[key] = value == .null ? nil : value }
        }
        guard let descriptor = configuration.providers[provider] else {
            throw APIError.invalid("provider", "the plugin \"\(provider)\" is no longer loaded, so this send-config cannot be changed")
        }
        try checkCredentials(descriptor, configuration: configuration)
    }

    init(stored json: JSONValue, credentials: [String: JSONValue]) {
        name = json["name"]?.stringValue ?? ""
        provider = json["provider"]?.stringValue ?? ""
        mode = json["mode"]?.stringValue ?? "byok"
        channel = json["channel"]?.stringValue ?? "email"
        rateLimit = json["rateLimit"].flatMap(Self.storedRateLimit)
        if case .object(let stored)? = json["defaults"] { defaults = stored.compactMapValues(\.stringValue) } else { defaults = [:] }
        if case .array(let stored)? = json["fallbacks"] { fallbacks = stored.compactMap(\.stringValue) }
        self.credentials = credentials
    }

    /// The `fallbacks` member: an array of distinct send-config ids (null or absent: none named). Whether each is
    /// one of the user's live configs on the same channel is checked where the configs are locked
    /// (`SendConfigService`).
    static func fallbacks(_ fields: JSONFields) throws(APIError) -> [String]? {
        if fields.object["fallbacks"] == .null { return [] }
        return try fields.ids("fallbacks", maxCount: maxFallbacks, what: "your send-configs") {
            "names \($0) send-configs; at most \(maxFallbacks) may stand in for one"
        }
    }

    /// The stored rate limit, held to 1...1,000,000. This API writes it within that range, but a row changed by
    /// hand may hold anything: read as nil it would turn a limited config unlimited on the next PATCH that does
    /// not touch it, and `Int(double)` would trap, so it is clamped to the nearest limit the API accepts instead.
    static func storedRateLimit(_ value: JSONValue) -> Int? {
        guard case .number(let limit) = value, !limit.isNaN else { return nil }
        let held = Swift.min(Swift.max(limit.rounded(.towardZero), 1), 1_000_000)
        return BoundedInteger.exactly(held, in: 1...1_000_000).map(Int.init)
    }

    private mutating func applyDefaults(_ fields: JSONFields) throws(APIError) {
        guard let nested = try fields.nested("defaults", allowed: Self.defaultKeys) else { return }
        for key in Self.defaultKeys.sorted() {
            guard let value = try nested.string(key, maxLength: 320) else { continue }
            if key == "from" || key == "replyTo" {
                try RecipientAddress.checkSender(value, channel: Channel(rawValue: channel) ?? .email, field: "defaults.\(key)")
            }
            defaults[key] = value
        }
    }

    /// Managed configs carry no credentials; BYOK ones must satisfy the plugin's keys, leave its test-only
    /// options alone, and name URLs the outbound policy lets the senders reach.
    private func checkCredentials(_ descriptor: PluginDescriptor, configuration: APIConfiguration) throws(APIError) {
        if mode == "managed" {
            guard credentials.isEmpty else { throw APIError.invalid("credentials", "a managed send-config takes no credentials") }
            return
        }
        if !configuration.allowTestOptions, let key = credentials.keys.sorted().first(where: { $0.hasPrefix("insecure_") }) {
            throw APIError.invalid("credentials.\(key)", "is a test-only option of the plugin, which this deployment does not allow ([api] allow_test_options)")
        }
        // A client that sends back what GET showed would otherwise replace the secret with its mask.
        for key in descriptor.configKeys where key.secret {
            let values: [(String, JSONValue)] = switch credentials[key.name] {
            case .object(let map)?: map.map { ("credentials.\(key.name).\($0.key)", $0.value) }
            case let value?: [("credentials.\(key.name)", value)]
            case nil: []
            }
            if let (field, _) = values.first(where: { $0.1.stringValue?.hasPrefix(CredentialVault.maskPrefix) == true }) {
                throw APIError.invalid(field, "is the masked form the API shows; send the secret itself, or leave it out to keep the stored one")
            }
        }
        for key in descriptor.configKeys where key.type == .url {
            guard let url = credentials[key.name]?.stringValue, !url.isEmpty else { continue }
            if let problem = Self.outboundProblem(url, policy: configuration.outbound) { throw APIError.invalid("credentials.\(key.name)", problem) }
        }
        do {
            let entries = try PluginConfiguration.entries(fromJSON: credentials)
            _ = try PluginConfiguration(validating: entries, against: descriptor.configKeys)
            // The instance is made and dropped at once: only the plugin's verdict on the credentials is wanted.
            _ = try configuration.plugins[provider]?.makeInstance(configuration: entries, services: HostServices(logger: Self.pluginLogger))
        } catch {
            let field = error.field.hasPrefix("config.") ? "credentials." + error.field.dropFirst("config.".count) : "credentials"
            throw APIError.invalid(field, error.message)
        }
    }

    /// Why the senders could not reach `url`, when that is known before any DNS lookup: its scheme, or a
    /// literal address the policy refuses. A name that resolves to a refused address is refused as it connects.
    static func outboundProblem(_ url: String, policy: OutboundPolicy) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(), let host = components.host, !host.isEmpty else {
            return "is not an absolute URL"
        }
        guard scheme == "https" || (scheme == "http" && policy.allowHTTP) else {
            return policy.allowHTTP ? "must be an http or https URL" : "must be an https URL (this deployment does not send over plain http)"
        }
        let literal = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        guard let bytes = IPNetwork.parse(literal), let refusal = policy.refusal(bytes) else { return nil }
        return "cannot be reached: \(refusal)"
    }
}
