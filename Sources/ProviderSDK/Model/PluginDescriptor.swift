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

    public init(id: String, name: String, version: String, description: String, channels: [Channel],
                maxBatch: Int, configKeys: [ConfigKey], interfaces: [String] = []) {
        self.id = id
        self.name = name
        self.version = version
        self.description = description
        self.channels = channels
        self.maxBatch = maxBatch
        self.configKeys = configKeys
        self.interfaces = interfaces
    }

    enum CodingKeys: String, CodingKey {
        case id, name, version, description, channels, interfaces
        case maxBatch = "max_batch"
        case configKeys = "config_keys"
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
