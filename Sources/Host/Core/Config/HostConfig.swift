import Foundation
import TOMLKit

/// One plugin the operator listed.
public struct PluginEntry: Sendable, Equatable, Decodable {
    public var path: String
    /// A required plugin that cannot be loaded stops start-up; an optional one is skipped with a warning.
    public var required: Bool

    public init(path: String, required: Bool = true) {
        self.path = path
        self.required = required
    }

    enum CodingKeys: String, CodingKey { case path, required }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        path = try c.decode(String.self, forKey: .path)
        required = try c.decodeIfPresent(Bool.self, forKey: .required) ?? true
    }
}

/// The host's configuration file (TOML). See docs/operators.md.
public struct HostConfig: Sendable, Equatable {
    public var plugins: [PluginEntry]
    public var fetch: FetchPolicy
    public var http: HTTPClientSettings
    public var api: APISettings
    public var pipeline: PipelineSettings
    public var webhooks: WebhookIngestSettings
    public var managed: ManagedAccounts
    public var limits: SendRateLimits
    public var admin: AdminSettings
    public var analytics: AnalyticsSettings
    /// Where sends and fetches may connect (`[outbound]`).
    public var outbound = OutboundPolicy()
    /// The name that keeps this deployment's streams, keys and tables apart from others' (`[deployment]`).
    public var deployment = DeploymentSettings()
    /// How its streams sit on NATS (`[nats]`).
    public var nats = NATSSettings()
    /// One-click unsubscribe links in bulk email (`[unsubscribe]`).
    public var unsubscribe = UnsubscribeSettings()

    public init(plugins: [PluginEntry] = [], fetch: FetchPolicy = FetchPolicy(), http: HTTPClientSettings = HTTPClientSettings(),
                api: APISettings = APISettings(), pipeline: PipelineSettings = PipelineSettings(),
                webhooks: WebhookIngestSettings = WebhookIngestSettings(), managed: ManagedAccounts = ManagedAccounts(),
                limits: SendRateLimits = SendRateLimits(), admin: AdminSettings = AdminSettings(),
                analytics: AnalyticsSettings = AnalyticsSettings()) {
        self.plugins = plugins
        self.fetch = fetch
        self.http = http
        self.api = api
        self.pipeline = pipeline
        self.webhooks = webhooks
        self.managed = managed
        self.limits = limits
        self.admin = admin
        self.analytics = analytics
    }

    /// Reads a config file; relative plugin paths are taken from the file's folder.
    public static func load(path: String) throws(HostConfigError) -> HostConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw HostConfigError(path: path, message: "cannot read the file")
        }
        var config = try parse(String(decoding: data, as: UTF8.self), path: path)
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        for index in config.plugins.indices where !config.plugins[index].path.hasPrefix("/") {
            config.plugins[index].path = folder.appendingPathComponent(config.plugins[index].path).standardizedFileURL.path
        }
        return config
    }

    public static func parse(_ text: String, path: String = "<config>") throws(HostConfigError) -> HostConfig {
        struct File: Decodable {
            var plugin: [PluginEntry]?
            var fetch: FetchPolicy?
            var http: HTTPClientSettings?
            var api: APISettings?
            var pipeline: PipelineSettings?
            var webhooks: WebhookIngestSettings?
            var managed: [String: [String: String]]?
            var limits: SendRateLimits?
            var admin: AdminSettings?
            var analytics: AnalyticsSettings?
            var outbound: OutboundPolicy?
            var deployment: DeploymentSettings?
            var nats: NATSSettings?
            var unsubscribe: UnsubscribeSettings?
        }
        let file = try decodeTOML(File.self, from: text, path: path)
        var config = HostConfig(plugins: file.plugin ?? [], fetch: file.fetch ?? FetchPolicy(), http: file.http ?? HTTPClientSettings(),
                          api: file.api ?? APISettings(), pipeline: file.pipeline ?? PipelineSettings(),
                          webhooks: file.webhooks ?? WebhookIngestSettings(), managed: ManagedAccounts(file.managed ?? [:]),
                          limits: file.limits ?? SendRateLimits(), admin: file.admin ?? AdminSettings(),
                          analytics: file.analytics ?? AnalyticsSettings())
        config.outbound = file.outbound ?? OutboundPolicy()
        config.deployment = file.deployment ?? DeploymentSettings()
        config.nats = file.nats ?? NATSSettings()
        config.unsubscribe = file.unsubscribe ?? UnsubscribeSettings()
        if !config.api.redisKeyPrefixGiven { config.api.redisKeyPrefix = config.deployment.redisKeyPrefix }
        return config
    }
}

/// Decodes a TOML config strictly (unknown keys refused), turning every
/// failure into one line that names the file and the key or line at fault.
public func decodeTOML<T: Decodable>(_ type: T.Type, from text: String, path: String) throws(HostConfigError) -> T {
    do {
        return try TOMLDecoder(strictDecoding: true).decode(T.self, from: text)
    } catch let error as TOMLParseError {
        throw HostConfigError(path: path, message: "line \(error.source.begin.line): \(error.description)")
    } catch let error as UnexpectedKeysError {
        throw HostConfigError(path: path, message: "unknown keys: \(error.keys.keys.sorted().joined(separator: ", "))")
    } catch let error as DecodingError {
        throw HostConfigError(path: path, message: error.readable)
    } catch {
        // Anything else, a config type's own validation error say, describes itself.
        throw HostConfigError(path: path, message: "\(error)")
    }
}

public struct HostConfigError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "config \(path): \(message)" }

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
}

extension DecodingError {
    /// "plugin[1].path: required key is missing" rather than Swift's debug text.
    public var readable: String {
        func path(_ context: Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
                .trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        switch self {
        case .keyNotFound(let key, let context):
            let prefix = path(context)
            return "\(prefix.isEmpty ? "" : prefix + ".")\(key.stringValue): required key is missing"
        case .typeMismatch(let type, let context):
            let detail = context.debugDescription.hasPrefix("Expected") ? "expected \(type)" : context.debugDescription
            return "\(path(context)): \(detail)"
        case .valueNotFound(let type, let context):
            return "\(path(context)): expected \(type), found null"
        case .dataCorrupted(let context):
            let where_ = path(context)
            return where_.isEmpty ? context.debugDescription : "\(where_): \(context.debugDescription)"
        @unknown default:
            return "\(self)"
        }
    }
}
