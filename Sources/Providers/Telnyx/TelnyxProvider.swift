import ProviderCrypto
import ProviderKit

/// Telnyx (SMS): `POST /v2/messages`, one recipient per request, and
/// Ed25519-signed message webhooks. docs/providers/telnyx.md.
public struct TelnyxProvider: MessageSending, WebhookHandling {
    public static let descriptor = PluginDescriptor(
        id: "telnyx", name: "Telnyx", version: "1.0.0",
        description: "SMS through Telnyx's messaging API; delivery events from its Ed25519-signed webhooks",
        channels: [.sms], maxBatch: 1,
        configKeys: [
            ConfigKey("api_key", required: true, secret: true, description: "Telnyx API v2 key (KEY…)"),
            ConfigKey("public_key", required: true, description: "The account's webhook public key: base64 of the 32-byte Ed25519 key"),
            ConfigKey("from", description: "Default sender: +E.164 number, short code or alphanumeric sender ID"),
            ConfigKey("messaging_profile_id", description: "Default messaging profile, used when no sender number is given"),
            ConfigKey("base_url", .url, description: "API base URL; a sandbox's for tests", default: "https://api.telnyx.com"),
        ],
        // Telnyx's account default for SMS: 50 messages a second (its senders have their own, lower,
        // limits, which it queues rather than refuses).
        defaultRate: SendRate(50, .messagesPerSecond))

    static let userAgent = "batchsender-telnyx/1.0"
    /// Telnyx's webhook library refuses timestamps further than this from now (seconds).
    static let tolerance: Int64 = 300

    let apiKey: String
    let publicKey: [UInt8]
    let from: String
    let messagingProfileId: String
    let baseURL: String

    public init(configuration: PluginConfiguration, context: some PluginContext) throws(PluginFailure) {
        apiKey = try configuration.string("api_key")
        guard !apiKey.isEmpty, apiKey.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            throw PluginFailure(.config, field: "config.api_key", "must be a Telnyx API key: printable characters, no spaces")
        }
        guard let key = Encoding.unbase64(try configuration.string("public_key")), key.count == Ed25519.publicKeyBytes else {
            throw PluginFailure(.config, field: "config.public_key", "must be the base64 of a 32-byte Ed25519 public key")
        }
        publicKey = key
        from = (try? configuration.string("from")) ?? ""
        if !from.isEmpty, !Self.isSender(from) {
            throw PluginFailure(.config, field: "config.from", "must be a +E.164 number, a short code or an alphanumeric sender ID")
        }
        messagingProfileId = (try? configuration.string("messaging_profile_id")) ?? ""
        let base = (try? configuration.string("base_url")) ?? "https://api.telnyx.com"
        baseURL = base.hasSuffix("/") ? String(base.dropLast()) : base
    }

    /// `+` then 2 to 15 digits, the first not 0 (E.164).
    static func isE164(_ number: String) -> Bool {
        let bytes = Array(number.utf8)
        guard bytes.count >= 3, bytes.count <= 16, bytes[0] == UInt8(ascii: "+"), bytes[1] != UInt8(ascii: "0") else { return false }
        return bytes.dropFirst().allSatisfy { (48...57).contains($0) }
    }

    /// A short code: 3 to 8 digits.
    static func isShortCode(_ number: String) -> Bool {
        (3...8).contains(number.utf8.count) && number.utf8.allSatisfy { (48...57).contains($0) }
    }

    /// An E.164 number, a short code, or an alphanumeric sender ID (1-11 letters, digits and spaces, with a letter).
    static func isSender(_ sender: String) -> Bool {
        if isE164(sender) || isShortCode(sender) { return true }
        let bytes = Array(sender.utf8)
        let allowed = bytes.allSatisfy { (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) || $0 == 32 }
        let hasLetter = bytes.contains { (65...90).contains($0) || (97...122).contains($0) }
        return (1...11).contains(bytes.count) && allowed && hasLetter
    }
}
