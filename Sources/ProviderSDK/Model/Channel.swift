import BatchSenderABI

/// A way of reaching a recipient; each plugin declares the channels it sends on.
public enum Channel: String, Sendable, Codable, CaseIterable {
    case email, sms, webhook

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let channel = Channel(rawValue: name) else {
            let names = Channel.allCases.map(\.rawValue).joined(separator: ", ")
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\"\(name)\" is not a channel; use one of \(names)")
        }
        self = channel
    }

    /// The BSP_CHANNEL_* bit of this channel.
    public var bit: UInt32 {
        switch self {
        case .email: BSP_CHANNEL_EMAIL
        case .sms: BSP_CHANNEL_SMS
        case .webhook: BSP_CHANNEL_WEBHOOK
        }
    }

    public static func set(from bits: UInt32) -> [Channel] {
        allCases.filter { bits & $0.bit != 0 }
    }

    public static func bits(of channels: [Channel]) -> UInt32 {
        channels.reduce(0) { $0 | $1.bit }
    }
}
