import ProviderCrypto
import ProviderKit

/// Amazon SES v2 (email): `SendEmail` and, for templated messages sharing a
/// template, `SendBulkEmail`, signed with SigV4; delivery events from SNS
/// notifications signed with AWS's certificates. docs/providers/ses.md.
public struct SESProvider: MessageSending, WebhookHandling {
    public static let descriptor = PluginDescriptor(
        id: "ses", name: "Amazon SES", version: "1.0.0",
        description: "Email through Amazon SES v2 (SigV4-signed); delivery events from SNS-signed notifications",
        channels: [.email], maxBatch: SESRequestBody.maxEntries,
        configKeys: [
            ConfigKey("access_key_id", required: true, description: "AWS access key id (AKIA… or ASIA… for temporary credentials)"),
            ConfigKey("secret_access_key", required: true, secret: true, description: "AWS secret access key"),
            ConfigKey("session_token", secret: true, description: "Session token of temporary credentials (STS); signed as X-Amz-Security-Token"),
            ConfigKey("region", required: true, description: "AWS region of the SES endpoint, e.g. us-east-1"),
            ConfigKey("configuration_set", description: "Configuration set for event publishing to SNS"),
            ConfigKey("base_url", .url, description: "Endpoint override (a sandbox's URL); default https://email.{region}.amazonaws.com"),
            ConfigKey("sns_topic_arns", .stringList,
                      description: "SNS topic ARNs whose notifications are accepted; an empty list accepts none"),
            ConfigKey("insecure_test_cert_url_prefix",
                      description: "TESTS ONLY, off by default: also trust SNS signing certificates whose URL starts with this prefix (a local sandbox's). Never set it in production"),
        ],
        // SES's default production quota is counted per message (per recipient), 14 a second; the
        // sandbox's is 1, which its own throttling answers.
        defaultRate: SendRate(14, .messagesPerSecond), sendsAttachments: true)

    static let userAgent = "batchsender-ses/1.0"

    let signer: SigV4Signer
    let baseURL: String
    let configurationSet: String
    let topicArns: Set<String>
    let testCertificatePrefix: String
    let certificates = CertificateCache()

    public init(configuration: PluginConfiguration, context: some PluginContext) throws(PluginFailure) {
        let accessKeyId = try configuration.string("access_key_id")
        guard (1...128).contains(accessKeyId.utf8.count),
              accessKeyId.utf8.allSatisfy({ (48...57).contains($0) || (65...90).contains($0) }) else {
            throw PluginFailure(.config, field: "config.access_key_id", "must be an AWS access key id: 1-128 upper-case letters and digits")
        }
        let secret = try configuration.string("secret_access_key")
        guard !secret.isEmpty, secret.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            throw PluginFailure(.config, field: "config.secret_access_key", "must be printable characters without spaces")
        }
        let token = (try? configuration.string("session_token")) ?? ""
        guard token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            throw PluginFailure(.config, field: "config.session_token", "must be printable characters without spaces")
        }
        let region = try configuration.string("region")
        guard Self.isRegion(region) else {
            throw PluginFailure(.config, field: "config.region", "\"\(region.prefix(40))\" is not an AWS region such as us-east-1")
        }
        signer = SigV4Signer(credentials: AWSCredentials(accessKeyId: accessKeyId, secretAccessKey: secret, sessionToken: token),
                             region: region, service: "ses")
        let base = (try? configuration.string("base_url")).flatMap { $0.isEmpty ? nil : $0 }
            ?? "https://email.\(region).amazonaws.com\(region.hasPrefix("cn-") ? ".cn" : "")"
        baseURL = base.hasSuffix("/") ? String(base.dropLast()) : base
        configurationSet = (try? configuration.string("configuration_set")) ?? ""
        guard configurationSet.utf8.count <= 64,
              configurationSet.utf8.allSatisfy({ Self.isTagByte($0) }) else {
            throw PluginFailure(.config, field: "config.configuration_set", "must be at most 64 letters, digits, _ or -")
        }
        let arns = configuration.stringList("sns_topic_arns")
        for (index, arn) in arns.enumerated() where !SNSMessage.isTopicArn(arn) {
            throw PluginFailure(.config, field: "config.sns_topic_arns[\(index)]",
                                "\"\(arn.prefix(80))\" is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)")
        }
        topicArns = Set(arns)
        testCertificatePrefix = (try? configuration.string("insecure_test_cert_url_prefix")) ?? ""
        if !testCertificatePrefix.isEmpty {
            guard testCertificatePrefix.hasPrefix("http://") || testCertificatePrefix.hasPrefix("https://"),
                  testCertificatePrefix.dropFirst(8).contains("/") else {
                throw PluginFailure(.config, field: "config.insecure_test_cert_url_prefix",
                                    "must be an http(s) URL with a path, e.g. http://127.0.0.1:4010/sns/")
            }
            context.log(.warn, "ses: insecure_test_cert_url_prefix is set; SNS certificates under \(testCertificatePrefix) are trusted. Tests only")
        }
    }

    /// `us-east-1`, `us-gov-west-1`, `cn-north-1`: letters, then hyphenated parts, ending in a number.
    static func isRegion(_ region: String) -> Bool {
        let parts = region.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3, region.utf8.count <= 32, let last = parts.last,
              last.utf8.allSatisfy({ (48...57).contains($0) }), !last.isEmpty else { return false }
        return parts.dropLast().allSatisfy { !$0.isEmpty && $0.utf8.allSatisfy { (97...122).contains($0) } }
    }

    /// SES names (tags, configuration sets) take letters, digits, `_` and `-`.
    static func isTagByte(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte)
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }
}
