import ProviderCrypto
import ProviderKit

/// Signed HTTP webhooks to the user's own URL (Standard Webhooks v1): one
/// JSON POST per message, and status callbacks signed the same way.
/// docs/providers/custom-webhook.md.
public struct CustomWebhookProvider: MessageSending, WebhookHandling {
    public static let descriptor = PluginDescriptor(
        id: "custom-webhook", name: "Custom webhook", version: "1.0.0",
        description: "A Standard-Webhooks-signed JSON POST per message to your URL; signed status callbacks back",
        channels: [.webhook], maxBatch: 1,
        configKeys: [
            ConfigKey("url", .url, required: true, description: "Where each message is POSTed"),
            ConfigKey("secret", required: true, secret: true, description: "Signing secret, whsec_ + base64 of 24 to 64 random bytes"),
            // Secret: these often carry `Authorization: Bearer …`, so the API and the dashboard show them masked.
            ConfigKey("headers", .stringMap, secret: true, description: "Extra headers for every POST, e.g. {\"x-tenant\":\"acme\"}"),
        ],
        // A user's endpoint publishes no rate; 50 a second is what a small web server takes without
        // noticing, and the user's send-config names its own rate when it takes more.
        defaultRate: SendRate(50, .messagesPerSecond))

    static let userAgent = "batchsender-webhook/1.0"
    /// Headers the plugin sets itself; configured extras may not replace them.
    static let reservedHeaders: Set<String> = [
        "content-type", "content-length", "host", "user-agent", "webhook-id", "webhook-timestamp", "webhook-signature",
    ]

    let url: String
    let signature: StandardWebhookSignature
    let extraHeaders: [KeyValue]

    public init(configuration: PluginConfiguration, context: some PluginContext) throws(PluginFailure) {
        url = try configuration.string("url")
        let secret = try configuration.string("secret")
        signature = try StandardWebhookSignature(secret: secret, field: "config.secret")
        extraHeaders = configuration.stringMap("headers")
        for header in extraHeaders {
            let field = "config.headers.\(header.name.prefix(40))"
            guard HTTPHeaderRules.isToken(header.name) else {
                throw PluginFailure(.config, field: field, "a header name must be an HTTP token")
            }
            guard HTTPHeaderRules.isSafeValue(header.value) else {
                throw PluginFailure(.config, field: field, "a header value must not contain CR, LF or NUL")
            }
            guard !Self.reservedHeaders.contains(header.name.lowercased()) else {
                throw PluginFailure(.config, field: field, "set by the plugin itself; it cannot be configured")
            }
        }
    }
}
