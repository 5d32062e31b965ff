import Foundation
import HostCore
import ProviderCrypto

/// Everything the sandbox can be told, from its TOML file (docs/sandbox.md).
/// Every key is optional: the defaults are the providers' documented
/// behaviour, with limits raised so that the sandbox is never the bottleneck.
public struct SandboxConfiguration: Sendable, Decodable {
    public var resend = ResendSettings()
    public var ses = SESSettings()
    public var telnyx = TelnyxSettings()
    public var webhooks = WebhookSettings()
    public var faults = FaultTable()
    public var receivers = ReceiverSettings()

    public init() {}

    enum CodingKeys: String, CodingKey { case resend, ses, telnyx, webhooks, faults, receivers }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        resend = try container.decodeIfPresent(ResendSettings.self, forKey: .resend) ?? resend
        ses = try container.decodeIfPresent(SESSettings.self, forKey: .ses) ?? ses
        telnyx = try container.decodeIfPresent(TelnyxSettings.self, forKey: .telnyx) ?? telnyx
        webhooks = try container.decodeIfPresent(WebhookSettings.self, forKey: .webhooks) ?? webhooks
        faults = try container.decodeIfPresent(FaultTable.self, forKey: .faults) ?? faults
        receivers = try container.decodeIfPresent(ReceiverSettings.self, forKey: .receivers) ?? receivers
        try validate()
    }

    public static func load(path: String) throws(HostConfigError) -> SandboxConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else { throw HostConfigError(path: path, message: "cannot read the file") }
        return try parse(String(decoding: data, as: UTF8.self), path: path)
    }

    public static func parse(_ text: String, path: String = "<sandbox config>") throws(HostConfigError) -> SandboxConfiguration {
        try decodeTOML(SandboxConfiguration.self, from: text, path: path)
    }

    func validate() throws(SandboxConfigurationError) {
        func rate(_ value: Double, _ field: String) throws(SandboxConfigurationError) {
            guard (0...1).contains(value) else { throw SandboxConfigurationError(field: field, reason: "must be between 0 and 1") }
        }
        for (name, faults) in [("resend", faults.resend), ("ses", faults.ses), ("telnyx", faults.telnyx)] {
            try rate(faults.rateLimited, "faults.\(name).rate_limited")
            try rate(faults.serverError, "faults.\(name).server_error")
            try rate(faults.slow, "faults.\(name).slow")
            try rate(faults.dropped, "faults.\(name).dropped")
            try rate(faults.lostResponse, "faults.\(name).lost_response")
            guard faults.rateLimited + faults.serverError + faults.slow + faults.dropped + faults.lostResponse <= 1 else {
                throw SandboxConfigurationError(field: "faults.\(name)", reason: "the rates add up to more than 1")
            }
            guard faults.slowMilliseconds >= 0 else {
                throw SandboxConfigurationError(field: "faults.\(name).slow_ms", reason: "must not be negative")
            }
        }
        try rate(webhooks.duplicateRate, "webhooks.duplicate_rate")
        try rate(webhooks.openRate, "webhooks.open_rate")
        try rate(webhooks.clickRate, "webhooks.click_rate")
        guard webhooks.latencyMilliseconds.count == 2, webhooks.latencyMilliseconds[0] >= 0,
              webhooks.latencyMilliseconds[0] <= webhooks.latencyMilliseconds[1] else {
            throw SandboxConfigurationError(field: "webhooks.latency_ms", reason: "must be [minimum, maximum] with 0 ≤ minimum ≤ maximum")
        }
        guard webhooks.retryTimeScale > 0, webhooks.retryTimeScale <= 1 else {
            throw SandboxConfigurationError(field: "webhooks.retry_time_scale", reason: "must be in (0, 1]")
        }
        guard webhooks.concurrency >= 1 else {
            throw SandboxConfigurationError(field: "webhooks.concurrency", reason: "must be at least 1")
        }
        guard webhooks.outcomes.total > 0, webhooks.outcomes.all.allSatisfy({ $0.weight >= 0 }) else {
            throw SandboxConfigurationError(field: "webhooks.outcomes", reason: "weights must not be negative and must not all be 0")
        }
        for (name, limit) in [("resend", resend.rateLimitPerSecond), ("ses", ses.maxSendRatePerSecond), ("telnyx", telnyx.rateLimitPerSecond)] {
            guard limit >= 1 else { throw SandboxConfigurationError(field: "\(name).rate limit", reason: "must be at least 1 per second") }
        }
        guard (try? StandardWebhookSignature(secret: resend.webhookSecret, field: "resend.webhook_secret")) != nil else {
            throw SandboxConfigurationError(field: "resend.webhook_secret", reason: "must be whsec_ followed by base64")
        }
        guard let seed = Encoding.unhex(telnyx.signingSeedHex), seed.count == 32 else {
            throw SandboxConfigurationError(field: "telnyx.signing_seed", reason: "must be 64 hex digits (a 32-byte Ed25519 seed)")
        }
        guard ses.signatureVersion == "1" || ses.signatureVersion == "2" else {
            throw SandboxConfigurationError(field: "ses.signature_version", reason: "must be \"1\" (SHA1) or \"2\" (SHA256)")
        }
        for (name, receiver) in receivers.named {
            if let secret = receiver.secret, (try? StandardWebhookSignature(secret: secret, field: "")) == nil {
                throw SandboxConfigurationError(field: "receivers.\(name).secret", reason: "must be whsec_ followed by base64")
            }
            for (status, weight) in receiver.responses {
                guard let code = Int(status), (200...599).contains(code), weight >= 0 else {
                    throw SandboxConfigurationError(field: "receivers.\(name).responses.\(status)",
                                                    reason: "keys are HTTP statuses 200–599, values non-negative weights")
                }
            }
        }
    }
}

public struct SandboxConfigurationError: Error, Sendable, CustomStringConvertible {
    public var field: String
    public var reason: String
    public var description: String { "\(field): \(reason)" }
}
