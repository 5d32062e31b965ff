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
    /// A provider's webhooks go to exactly this URL instead (`--webhook-url PROVIDER=URL`).
    let webhookURLs: [SandboxProvider: String]
    let logger: Logger

    let stats = SandboxStats()
    let fates = FateLog()
    let arrivals = ArrivalLog()
    let unsubscribeLinks = UnsubscribeLinkLog()
    let attachments = AttachmentLog()
    let reached = ReachedLog()
    let outages = ProviderOutages()
    let random: SandboxRandom
    let planner: EventPlanner
    let dispatcher: WebhookDispatcher
    let subscription: SNSSubscription
    let sns: SNSEnvelope
    let certificatePEM: [UInt8]
    let telnyxKeys: Ed25519.KeyPair
    let resendSigner: StandardWebhookSignature
    /// The receiver's verifier per configured name, and for every other name.
    let receiverSigners: [String: StandardWebhookSignature]
    let defaultReceiverSigner: StandardWebhookSignature

    let idempotency: [SandboxProvider: IdempotencyCache]
    let duplicates: [SandboxProvider: DuplicateDetector]
    let deliveries: [SandboxProvider: DeliveryLedger]
    let rateWindows: [SandboxProvider: RateWindow]

    static let certificatePath = "/sns/SimpleNotificationService-sandbox.pem"

    init(configuration: SandboxConfiguration, port: Int, webhookTarget: String?, webhookURLs: [SandboxProvider: String] = [:], seed: UInt64?,
         client: any HTTPClient, logger: Logger) throws(SandboxStartError) {
        self.configuration = configuration
        publicURL = "http://127.0.0.1:\(port)"
        self.webhookTarget = webhookTarget.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.webhookURLs = webhookURLs
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
        do {
            defaultReceiverSigner = try StandardWebhookSignature(secret: SandboxDefaults.receiverSecret, field: "receiver secret")
            var signers: [String: StandardWebhookSignature] = [:]
            for (name, receiver) in configuration.receivers.named {
                if let secret = receiver.secret {
                    signers[name] = try StandardWebhookSignature(secret: secret, field: "receivers.\(name).secret")
                }
            }
            receiverSigners = signers
        } catch {
            throw SandboxStartError(reason: "\(error)")
        }
        dispatcher = WebhookDispatcher(client: client, stats: stats, subscription: subscription,
                                       concurrency: configuration.webhooks.concurrency, logger: logger)
        idempotency = [.resend: IdempotencyCache(), .telnyx: IdempotencyCache()]
        duplicates = [.resend: DuplicateDetector(), .ses: DuplicateDetector(), .telnyx: DuplicateDetector(), .receiver: DuplicateDetector()]
        deliveries = [.resend: DeliveryLedger(), .ses: DeliveryLedger(), .telnyx: DeliveryLedger(), .receiver: DeliveryLedger()]
        rateWindows = [.resend: RateWindow(limitPerSecond: configuration.resend.rateLimitPerSecond),
                       .ses: RateWindow(limitPerSecond: configuration.ses.maxSendRatePerSecond),
                       .telnyx: RateWindow(limitPerSecond: configuration.telnyx.rateLimitPerSecond)]
    }

    /// Clears counters, idempotency and rate state and queued webhooks, and restarts the seeded stream.
    func reset() {
        stats.reset()
        fates.reset()
        arrivals.reset()
        unsubscribeLinks.reset()
        attachments.reset()
        reached.reset()
        outages.reset()
        random.reset()
        dispatcher.queue.removeAll()
        dispatcher.hold(seconds: 0)
        idempotency.values.forEach { $0.reset() }
        duplicates.values.forEach { $0.reset() }
        deliveries.values.forEach { $0.reset() }
        rateWindows.values.forEach { $0.reset() }
    }

    /// The webhook URL for `provider`'s events: its own `--webhook-url`, else under the target, else none.
    func webhookURL(_ provider: SandboxProvider) -> String? {
        webhookURLs[provider] ?? webhookTarget.map { "\($0)/webhooks/\(provider.rawValue)" }
    }

    /// Serves `send` under an idempotency key (nil: none) as Resend and Telnyx
    /// document it: a replay returns the stored answer and sends nothing; a
    /// conflict gets the provider's own refusal; only 200s are kept.
    func idempotently(_ provider: SandboxProvider, key: String?, body: [UInt8], now: Int64,
                      refusal: (IdempotencyCache.Claim) -> Reply, send: () -> Reply) -> Reply {
        guard let key, let cache = idempotency[provider] else { return send() }
        switch cache.claim(key, fingerprint: Digest.sha256(body), nowMilliseconds: now) {
        case .new:
            let reply = send()
            if reply.status == 200 { cache.complete(key, with: reply.stored) } else { cache.abandon(key) }
            return reply
        case .replay(let stored):
            stats.update(provider) { $0.idempotentReplays += 1 }
            return Reply(stored)
        case let conflict:
            stats.update(provider) { $0.rejected += 1 }
            return refusal(conflict)
        }
    }

    /// Counts one request's accepted messages, `deliveries`. `duplicateKey` (an
    /// idempotency key, or what stands for one) accepted as a new send a second
    /// time makes them duplicate sends; a recipient reached again with the same
    /// content is a duplicate delivery, whatever the key.
    func countAccepted(_ provider: SandboxProvider, _ deliveries: [Delivery], duplicateKey: String?) {
        guard !deliveries.isEmpty else { return }
        let accepted = deliveries.count
        arrivals.record(provider, messages: accepted)
        let duplicate = duplicateKey.map { duplicates[provider]!.recordAccepted($0) } ?? false
        let repeated = self.deliveries[provider]!.record(deliveries)
        reached.record(provider, deliveries)
        var oneClick = 0, files = 0
        for delivery in deliveries {
            if !delivery.attachments.isEmpty {
                files += delivery.attachments.count * delivery.recipients.count
                attachments.record(provider, to: delivery.recipients, files: delivery.attachments)
            }
            guard let url = delivery.unsubscribeURL else { continue }
            oneClick += delivery.recipients.count
            unsubscribeLinks.record(provider, to: delivery.recipients, url: url)
        }
        stats.update(provider) {
            $0.oneClickUnsubscribe += oneClick
            $0.attachments += files
            $0.messagesAccepted += accepted
            if duplicate { $0.duplicateSends += accepted }
            $0.duplicateDeliveries += repeated
        }
    }

    /// Draws an accepted message's fate and queues its webhooks from `acceptedAt`.
    func planWebhooks(_ provider: SandboxProvider, messageId: String, recipients: [String], channel: EventPlanner.Channel, acceptedAt: Int64,
                      makeJob: (TimedStep) -> WebhookJob?) {
        var generator = random.generator(for: messageId)
        let fate = planner.fate(recipients: recipients, generator: &generator)
        fates.record(provider, messageId: messageId, fate: fate)
        for step in planner.timeline(fate: fate, channel: channel, generator: &generator) {
            guard let job = makeJob(step) else { continue }
            dispatcher.schedule(job, due: acceptedAt + step.dueOffsetMilliseconds)
        }
    }
}

public struct SandboxStartError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { "sandbox cannot start: \(reason)" }
}
