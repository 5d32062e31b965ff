import HostCore
import Logging
import ProviderCrypto
import ProviderModel

/// What every endpoint of one sandbox shares: configuration, counters,
/// randomness, idempotency and rate state, and the webhook machinery.
final class SandboxState: Sendable {
    let configuration: SandboxConfiguration
    /// `http://127.0.0.1:PORT`: how the sandbox names itself in URLs it hands out.
    let publicURL: String
    /// Where delivery webhooks go: `…/webhooks/resend`, `…/webhooks/ses`, `…/webhooks/telnyx` under it.
    let webhookTarget: String?
    let logger: Logger

    let stats = SandboxStats()
    let random: SandboxRandom
    let planner: EventPlanner
    let dispatcher: WebhookDispatcher
    let subscription: SNSSubscription
    let sns: SNSEnvelope
    let certificatePEM: [UInt8]
    let telnyxKeys: Ed25519.KeyPair
    let resendSigner: StandardWebhookSignature

    let idempotency: [SandboxProvider: IdempotencyCache]
    let duplicates: [SandboxProvider: DuplicateDetector]
    let rateWindows: [SandboxProvider: RateWindow]

    static let certificatePath = "/sns/SimpleNotificationService-sandbox.pem"

    init(configuration: SandboxConfiguration, port: Int, webhookTarget: String?, seed: UInt64?,
         client: any HTTPClient, logger: Logger) throws(SandboxStartError) {
        self.configuration = configuration
        publicURL = "http://127.0.0.1:\(port)"
        self.webhookTarget = webhookTarget.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.logger = logger
        random = SandboxRandom(seed: seed)
        planner = EventPlanner(settings: configuration.webhooks)

        guard let key = RSAPrivateKey.generate(), let certificate = key.selfSignedCertificatePEM(
            commonName: "sns.us-east-1.amazonaws.com (BatchSender sandbox)", validDays: 365) else {
            throw SandboxStartError(reason: "libcrypto could not make the SNS signing key and certificate")
        }
        certificatePEM = certificate
        subscription = SNSSubscription(topicArn: configuration.ses.topicArn, token: Encoding.hex(SecureRandom.bytes(64) ?? []),
                                       confirmed: !configuration.ses.requireConfirmation, subscriptionId: random.uuid())
        sns = SNSEnvelope(key: key, certificateURL: publicURL + Self.certificatePath,
                          signatureVersion: configuration.ses.signatureVersion, subscription: subscription,
                          endpointBase: publicURL + "/sns/")
        guard let seedBytes = Encoding.unhex(configuration.telnyx.signingSeedHex),
              let keys = Ed25519.KeyPair(seed: seedBytes) else {
            throw SandboxStartError(reason: "telnyx.signing_seed is not a 32-byte Ed25519 seed")
        }
        telnyxKeys = keys
        do {
            resendSigner = try StandardWebhookSignature(secret: configuration.resend.webhookSecret, field: "resend.webhook_secret")
        } catch {
            throw SandboxStartError(reason: "resend.webhook_secret: \(error)")
        }
        dispatcher = WebhookDispatcher(client: client, stats: stats, subscription: subscription,
                                       concurrency: configuration.webhooks.concurrency, logger: logger)
        idempotency = [.resend: IdempotencyCache(), .telnyx: IdempotencyCache()]
        duplicates = [.resend: DuplicateDetector(), .ses: DuplicateDetector(), .telnyx: DuplicateDetector(), .receiver: DuplicateDetector()]
        rateWindows = [.resend: RateWindow(limitPerSecond: configuration.resend.rateLimitPerSecond),
                       .ses: RateWindow(limitPerSecond: configuration.ses.maxSendRatePerSecond),
                       .telnyx: RateWindow(limitPerSecond: configuration.telnyx.rateLimitPerSecond)]
    }

    /// Clears counters, idempotency and rate state and queued webhooks, and restarts the seeded stream.
    func reset() {
        stats.reset()
        random.reset()
        dispatcher.queue.removeAll()
        idempotency.values.forEach { $0.reset() }
        duplicates.values.forEach { $0.reset() }
        rateWindows.values.forEach { $0.reset() }
    }

    /// The webhook URL for `provider`'s events, when a target is set.
    func webhookURL(_ provider: SandboxProvider) -> String? {
        webhookTarget.map { "\($0)/webhooks/\(provider.rawValue)" }
    }

    /// Queues the webhooks of a message's timeline, starting from `acceptedAt`.
    func publish(_ timeline: [TimedStep], acceptedAt: Int64, makeJob: (TimedStep) -> WebhookJob?) {
        for step in timeline {
            guard let job = makeJob(step) else { continue }
            dispatcher.schedule(job, due: acceptedAt + step.dueOffsetMilliseconds)
        }
    }
}

public struct SandboxStartError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { "sandbox cannot start: \(reason)" }
}
