import BatchSenderABI

/// The type of a configuration value (descriptor.h BSP_CONFIG_*).
public enum ConfigValueType: String, Sendable, Codable, CaseIterable {
    case string, url, bool
    case stringList = "string_list"
    case stringMap = "string_map"
}

/// One configuration key a plugin accepts.
public struct ConfigKey: Sendable, Equatable, Codable {
    public var name: String
    public var type: ConfigValueType
    public var required: Bool
    public var secret: Bool
    public var description: String
    public var defaultValue: String?

    public init(_ name: String, _ type: ConfigValueType = .string, required: Bool = false, secret: Bool = false,
                description: String, default defaultValue: String? = nil) {
        self.name = name
        self.type = type
        self.required = required
        self.secret = secret
        self.description = description
        self.defaultValue = defaultValue
    }

    enum CodingKeys: String, CodingKey {
        case name, type, required, secret, description
        case defaultValue = "default"
    }
}

/// A provider's published sending rate for one account (descriptor.h `default_rate`, `rate_unit`).
public struct SendRate: Sendable, Equatable, Codable {
    /// What one unit of `perSecond` counts.
    public enum Unit: String, Sendable, Codable, CaseIterable {
        /// Messages a second, however they are batched (SES counts recipients).
        case messagesPerSecond = "messages_per_second"
        /// API requests a second; one request carries up to the descriptor's max batch.
        case requestsPerSecond = "requests_per_second"
    }

    /// The most a C descriptor's `uint32_t default_rate` holds.
    public static let range: ClosedRange<Int> = 1...Int(UInt32.max)

    public var perSecond: Int
    public var unit: Unit

    /// nil for a rate below 1: "the provider publishes none" is no rate, not a rate of 0.
    public init?(_ perSecond: Int, _ unit: Unit) {
        guard Self.range.contains(perSecond) else { return nil }
        self.perSecond = perSecond
        self.unit = unit
    }

    /// The rate in messages a second, when each request carries `maxBatch` messages; a product past
    /// `Int64.max` is that, never a trap.
    public func messagesPerSecond(maxBatch: Int) -> Int64 {
        switch unit {
        case .messagesPerSecond: Int64(perSecond)
        case .requestsPerSecond: BoundedInteger.product(Int64(perSecond), Int64(max(maxBatch, 1)), clampedTo: 1...Int64.max)
        }
    }

    enum CodingKeys: String, CodingKey {
        case unit
        case perSecond = "per_second"
    }
}

/// What a plugin declares about itself (descriptor.h).
public struct PluginDescriptor: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var version: String
    public var description: String
    public var channels: [Channel]
    public var maxBatch: Int
    public var configKeys: [ConfigKey]
    public var interfaces: [String]
    /// The provider's published rate; nil when it publishes none (or the plugin is ABI 1.0).
    public var defaultRate: SendRate?
    /// Whether it sends `OutboundMessage.attachments` (ABI 1.2, `BSP_FEATURE_ATTACHMENTS`): only a plugin that says
    /// so is handed a message with files, since a rebuilt plugin that never reads the field would send without them.
    public var sendsAttachments: Bool

    public init(id: String, name: String, version: String, description: String, channels: [Channel],
                maxBatch: Int, configKeys: [ConfigKey], interfaces: [String] = [], defaultRate: SendRate? = nil,
                sendsAttachments: Bool = false) {
        self.id = id
        self.name = name
        self.version = version
        self.description = description
        self.channels = channels
        self.maxBatch = maxBatch
        self.configKeys = configKeys
        self.interfaces = interfaces
        self.defaultRate = defaultRate
        self.sendsAttachments = sendsAttachments
    }

    enum CodingKeys: String, CodingKey {
        case id, name, version, description, channels, interfaces
        case maxBatch = "max_batch"
        case configKeys = "config_keys"
        case defaultRate = "default_rate"
        case sendsAttachments = "sends_attachments"
    }

    /// Whether `id` has the form descriptor.h requires: [a-z][a-z0-9_-]{0,63}.
    public static func isValidId(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        guard (1...64).contains(bytes.count), (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[0]) else { return false }
        return bytes.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
        }
    }
}

/// Interface ids (sender.h, webhook.h).
public enum PluginInterface {
    public static let senderV1: String = BSP_SENDER_V1
    public static let webhookV1: String = BSP_WEBHOOK_V1
}
