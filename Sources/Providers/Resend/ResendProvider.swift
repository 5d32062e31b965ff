import ProviderCrypto
import ProviderKit

/// Resend (email): `POST /emails` for one message, `POST /emails/batch` for
/// up to 100, and Svix-signed delivery webhooks. docs/providers/resend.md.
public struct ResendProvider: MessageSending, WebhookHandling {
    public static let descriptor = PluginDescriptor(
        id: "resend", name: "Resend", version: "1.0.0",
        description: "Email through Resend's API; delivery events from its Svix-signed webhooks",
        channels: [.email], maxBatch: 100,
        configKeys: [
            ConfigKey("api_key", required: true, secret: true, description: "Resend API key (re_…)"),
            ConfigKey("webhook_secret", secret: true, description: "The webhook endpoint's signing secret (whsec_…); needed to take webhooks"),
            ConfigKey("base_url", .url, description: "API base URL; a sandbox's for tests", default: "https://api.resend.com"),
        ],
        // Resend counts requests: 5 a second per team by its current docs, and a batch of up to 100 is
        // one request. The host paces a BYOK config in requests at this rate, so batches stay full.
        defaultRate: SendRate(5, .requestsPerSecond), sendsAttachments: true)

    static let userAgent = "batchsender-resend/1.0"

    let apiKey: String
    let baseURL: String
    let webhookSignature: StandardWebhookSignature?

    public init(configuration: PluginConfiguration, context: some PluginContext) throws(PluginFailure) {
        apiKey = try configuration.string("api_key")
        guard apiKey.hasPrefix("re_"), apiKey.utf8.count > 3,
              apiKey.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            throw PluginFailure(.config, field: "config.api_key", "must be a Resend API key: re_ followed by printable characters")
        }
        let base = (try? configuration.string("base_url")) ?? "https://api.resend.com"
        baseURL = base.hasSuffix("/") ? String(base.dropLast()) : base
        if let secret = try? configuration.string("webhook_secret"), !secret.isEmpty {
            webhookSignature = try StandardWebhookSignature(secret: secret, field: "config.webhook_secret")
        } else {
            webhookSignature = nil
        }
    }
}
