import ProviderCrypto

/// A number written either way in TOML (`1` or `1.0`): rates and weights are read as Double.
struct TOMLNumber: Decodable {
    let value: Double

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let double = try? container.decode(Double.self) { value = double } else { value = Double(try container.decode(Int.self)) }
    }
}

extension KeyedDecodingContainer {
    /// A rate or weight under `key`, integer or not, or `fallback`.
    func number(_ key: Key, or fallback: Double) throws -> Double {
        try decodeIfPresent(TOMLNumber.self, forKey: key)?.value ?? fallback
    }

    /// The value under `key`, or `fallback` when the key is absent: every setting has a default.
    func value<T: Decodable>(_ key: Key, or fallback: T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? fallback
    }
}

/// Resend's API (resend.com/docs/api-reference).
public struct ResendSettings: Sendable, Decodable {
    /// Keys accepted as `Authorization: Bearer …`; empty accepts any key of Resend's format (`re_…`).
    public var apiKeys: [String] = []
    /// Requests per second per key. Resend's own default is 2 per team; the sandbox's is high so that benchmarks measure BatchSender.
    public var rateLimitPerSecond = 10_000
    /// The Svix signing secret of the webhook endpoint (`whsec_` + base64).
    public var webhookSecret = SandboxDefaults.resendWebhookSecret

    public init() {}

    enum CodingKeys: String, CodingKey {
        case apiKeys = "api_keys", rateLimitPerSecond = "rate_limit_per_second", webhookSecret = "webhook_secret"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        apiKeys = try c.value(.apiKeys, or: apiKeys)
        rateLimitPerSecond = try c.value(.rateLimitPerSecond, or: rateLimitPerSecond)
        webhookSecret = try c.value(.webhookSecret, or: webhookSecret)
    }
}

/// Amazon SES v2 and the SNS topic its events are published to.
public struct SESSettings: Sendable, Decodable {
    public struct Credential: Sendable, Decodable {
        public var accessKeyId: String
        public var secretAccessKey: String
        /// Empty: any session token (or none) is accepted.
        public var sessionToken = ""

        enum CodingKeys: String, CodingKey {
            case accessKeyId = "access_key_id", secretAccessKey = "secret_access_key", sessionToken = "session_token"
        }

        public init(accessKeyId: String, secretAccessKey: String, sessionToken: String = "") {
            self.accessKeyId = accessKeyId
            self.secretAccessKey = secretAccessKey
            self.sessionToken = sessionToken
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            accessKeyId = try c.decode(String.self, forKey: .accessKeyId)
            secretAccessKey = try c.decode(String.self, forKey: .secretAccessKey)
            sessionToken = try c.value(.sessionToken, or: "")
        }
    }

    /// AWS's documentation example pair unless configured.
    public var credentials = [Credential(accessKeyId: SandboxDefaults.awsAccessKeyId, secretAccessKey: SandboxDefaults.awsSecretAccessKey)]
    /// Recipients per second across the account, as SES counts its sending quota.
    public var maxSendRatePerSecond = 100_000
    public var topicArn = SandboxDefaults.snsTopicArn
    /// SNS `SignatureVersion`: "1" signs with SHA1, "2" with SHA256.
    public var signatureVersion = "1"
    /// Whether notifications wait for the SubscriptionConfirmation to be confirmed, as SNS does.
    /// When false the subscription starts confirmed (for receivers that cannot confirm).
    public var requireConfirmation = true

    public init() {}

    enum CodingKeys: String, CodingKey {
        case credentials, maxSendRatePerSecond = "max_send_rate_per_second", topicArn = "topic_arn"
        case signatureVersion = "signature_version", requireConfirmation = "require_confirmation"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        credentials = try c.value(.credentials, or: credentials)
        maxSendRatePerSecond = try c.value(.maxSendRatePerSecond, or: maxSendRatePerSecond)
        topicArn = try c.value(.topicArn, or: topicArn)
        signatureVersion = try c.value(.signatureVersion, or: signatureVersion)
        requireConfirmation = try c.value(.requireConfirmation, or: requireConfirmation)
    }

    var awsCredentials: [AWSCredentials] {
        credentials.map { AWSCredentials(accessKeyId: $0.accessKeyId, secretAccessKey: $0.secretAccessKey, sessionToken: $0.sessionToken) }
    }
}

/// Telnyx's messaging API.
public struct TelnyxSettings: Sendable, Decodable {
    /// Keys accepted as `Authorization: Bearer …`; empty accepts any key of Telnyx's format (`KEY…`).
    public var apiKeys: [String] = []
    public var rateLimitPerSecond = 10_000
    /// The account's Ed25519 signing seed (64 hex digits); its public key is what receivers configure.
    public var signingSeedHex = SandboxDefaults.telnyxSigningSeedHex

    public init() {}

    enum CodingKeys: String, CodingKey {
        case apiKeys = "api_keys", rateLimitPerSecond = "rate_limit_per_second", signingSeedHex = "signing_seed"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        apiKeys = try c.value(.apiKeys, or: apiKeys)
        rateLimitPerSecond = try c.value(.rateLimitPerSecond, or: rateLimitPerSecond)
        signingSeedHex = try c.value(.signingSeedHex, or: signingSeedHex)
    }
}

/// The documented defaults, so that a receiver can be configured without asking the sandbox.
public enum SandboxDefaults {
    public static let port = 6100
    /// `whsec_` + base64("batchsender-sandbox-resend-key!!").
    public static let resendWebhookSecret = "whsec_YmF0Y2hzZW5kZXItc2FuZGJveC1yZXNlbmQta2V5ISE="
    /// `whsec_` + base64("batchsender-sandbox-receiver-key"): for receiver names without a secret of their own.
    public static let receiverSecret = "whsec_YmF0Y2hzZW5kZXItc2FuZGJveC1yZWNlaXZlci1rZXk="
    public static let awsAccessKeyId = "AKIDEXAMPLE"
    public static let awsSecretAccessKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    public static let snsTopicArn = "arn:aws:sns:us-east-1:123456789012:batchsender-ses-events"
    /// PROVIDERS.md's Telnyx test seed; its public key is `A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=`.
    public static let telnyxSigningSeedHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
}
