import Analytics
import Domain
import Foundation
import HostCore
import Logging
import Messaging
import NIOHTTP1
import Persistence
import Prometheus
import ProviderCrypto
import ProviderInstances
import ProviderModel
import Synchronization
import Templating

/// One webhook request as the receiver's route took it.
struct WebhookCall: Sendable {
    var provider: String
    /// The BYOK config whose URL took it; nil for the managed route.
    var sendConfigID: String?
    /// Header names lower-cased, as the plugins and the stored envelope expect them.
    var request: InboundWebhook
}

/// What the receiver answers: a status and a small JSON document.
struct WebhookReply: Sendable {
    var status: HTTPResponseStatus
    var body: String

    static func json(_ status: HTTPResponseStatus, _ object: [String: JSONValue]) -> WebhookReply {
        WebhookReply(status: status, body: JSONValue.object(object).compactText)
    }

    static func error(_ status: HTTPResponseStatus, _ code: String, _ message: String) -> WebhookReply {
        json(status, ["error": .object(["code": .string(code), "message": .string(message)])])
    }
}

/// Verifies a webhook through its config's plugin instance and stores it in the `webhooks` stream,
/// answering 200 only once JetStream acknowledged it: what a provider is told was taken is never lost.
///
/// The common request needs no task at all: the instance comes from the cache, the plugin verifies
/// and parses it in a few microseconds on the caller's thread (an event loop), and the publish's ack
/// answers it from libnats's thread. Only what must wait on something else — a config not cached,
/// a certificate to fetch, an SNS subscription to confirm — continues in a task.
final class WebhookIntake: Sendable {
    private let settings: WebhookIngestSettings
    private let instances: WebhookInstances
    /// Its own connection: other roles' batch publishes would hold a shared one for a page at a time.
    private let jetStream: JetStream
    /// Requests waiting for an ack now; past `pendingLimit`, a request gets 503 at once.
    private let waiting = Atomic<Int>(0)
    /// Requests whose config is being read now (not cached, nor cached as missing); past `maxLookups`, 503 at once.
    private let lookups = Atomic<Int>(0)
    static let maxLookups = 64
    private let fetcher: DocumentFetcher?
    private let logger: Logger
    private let registry: PrometheusCollectorRegistry
    /// Each provider's valid and stored counters, made once: the registry's lookup by name and labels takes a
    /// lock and builds a key, twice a request otherwise.
    private let counters: [String: (valid: Counter, stored: Counter)]

    init(settings: WebhookIngestSettings, instances: WebhookInstances, jetStream: JetStream, fetcher: DocumentFetcher?,
         registry: PrometheusCollectorRegistry, logger: Logger) {
        self.settings = settings
        self.instances = instances
        self.jetStream = jetStream
        self.fetcher = fetcher
        self.registry = registry
        self.logger = logger
        var counters: [String: (valid: Counter, stored: Counter)] = [:]
        for provider in instances.plugins.ids {
            counters[provider] = (registry.makeCounter(descriptor: Self.verifications, labels: [("provider", provider), ("result", "valid")]),
                                  registry.makeCounter(descriptor: Self.stored, labels: [("provider", provider)]))
        }
        self.counters = counters
    }

    nonisolated(unsafe) static let verifications = MetricNameDescriptor(
        namespace: "webhook", metricName: "verifications", unitName: "total",
        helpText: "Webhook requests by provider and verification result (valid, or the refusal reason)")
    nonisolated(unsafe) static let stored = MetricNameDescriptor(
        namespace: "webhook", metricName: "stored", unitName: "total", helpText: "Verified webhooks JetStream acknowledged, by provider")

    /// Answers `call` through `reply`, exactly once, from whichever thread finishes it.
    func receive(_ call: WebhookCall, reply: @escaping @Sendable (WebhookReply) -> Void) {
        switch instances.cachedInstance(provider: call.provider, sendConfigID: call.sendConfigID) {
        case .success(let instance): verify(call, with: instance, reply: reply)
        case .failure(let problem): reply(.error(.notFound, "not_found", problem.description))
        case nil:
            // Each lookup holds its request's body until the read ends: past the cap, a request is answered at once.
            guard lookups.add(1, ordering: .relaxed).newValue <= Self.maxLookups else {
                lookups.subtract(1, ordering: .relaxed)
                return reply(.error(.serviceUnavailable, "busy", "\(Self.maxLookups) send-config lookups are under way; retry"))
            }
            Task {
                defer { lookups.subtract(1, ordering: .relaxed) }
                do {
                    switch try await instances.instance(provider: call.provider, sendConfigID: call.sendConfigID) {
                    case .success(let instance): verify(call, with: instance, reply: reply)
                    case .failure(let problem): reply(.error(.notFound, "not_found", problem.description))
                    }
                } catch {
                    logger.warning("webhook: send-config lookup failed", metadata: ["error": "\(error)"])
                    reply(.error(.serviceUnavailable, "unavailable", "the send-config could not be read now; retry"))
                }
            }
        }
    }

    private func verify(_ call: WebhookCall, with instance: PluginInstance, reply: @escaping @Sendable (WebhookReply) -> Void) {
        let inbound = call.request
        switch instance.read(inbound) {
        case .authentic(let events): store(call, inbound, events, reply: reply)
        case .unreadable(let failure): unreadable(failure, provider: call.provider, reply: reply)
        case .refused(let failure, let pending):
            guard failure.status == .pending, !pending.isEmpty else { return refuse(failure, provider: call.provider, reply: reply) }
            // The plugin needs a document first (SNS's signing certificate, fetched once): fetched in a task.
            Task {
                do throws(PluginFailure) {
                    try await instance.verify(inbound)
                } catch {
                    // A certificate that could not be fetched is the fetch's failure, not the plugin's: 503, retried.
                    if error.status == .internal, let reason = pending.lazy.compactMap({ self.fetcher?.failure(for: $0) }).first {
                        return refuse(PluginFailure(.pending, reason), provider: call.provider, reply: reply)
                    }
                    return refuse(error, provider: call.provider, reply: reply)
                }
                do throws(PluginFailure) {
                    store(call, inbound, try instance.parse(inbound), reply: reply)
                } catch {
                    unreadable(error, provider: call.provider, reply: reply)
                }
            }
        }
    }

    private func unreadable(_ failure: PluginFailure, provider: String, reply: @Sendable (WebhookReply) -> Void) {
        counters[provider]?.valid.increment()
        reply(.error(.badRequest, "malformed", "the webhook is authentic but cannot be read: \(failure.message)"))
    }

    private func store(_ call: WebhookCall, _ inbound: InboundWebhook, _ events: [DeliveryEvent],
                       reply: @escaping @Sendable (WebhookReply) -> Void) {
        let provider = call.provider
        counters[provider]?.valid.increment()
        if let confirmation = events.first(where: { $0.type == .subscriptionConfirmation }) {
            Task { reply(await confirm(confirmation, provider: provider)) }
            return
        }
        let envelope = WebhookEnvelope(provider: provider, sendConfigID: call.sendConfigID, receivedAtMs: SystemClock.nowMilliseconds, request: inbound)
        // A provider's retry of a stored request names the same events: JetStream's duplicate window drops it.
        let ids = events.map(\.eventId).filter { !$0.isEmpty }
        let messageID = ids.isEmpty ? nil : Encoding.hex(Digest.sha256(Array("\(provider)|\(call.sendConfigID ?? "")|\(ids.joined(separator: ","))".utf8)))
        let message = OutgoingMessage(subject: Streams.webhookSubject(provider: provider, event: events.first?.type.rawValue ?? "unknown"),
                                      id: messageID, data: envelope.encoded())
        guard waiting.add(1, ordering: .relaxed).newValue <= settings.pendingLimit else {
            waiting.subtract(1, ordering: .relaxed)
            return reply(.error(.serviceUnavailable, "not_stored", "\(settings.pendingLimit) webhooks already wait to be stored; retry"))
        }
        let stored = counters[provider]?.stored
        let answer = WebhookReply(status: .ok, body: #"{"events":\#(events.count),"stored":true}"#)
        jetStream.publish(message, timeoutMs: settings.publishTimeoutMs) { failure in
            self.waiting.subtract(1, ordering: .relaxed)
            if let failure {
                self.logger.warning("webhook not stored", metadata: ["provider": "\(provider)", "error": "\(failure)"])
                return reply(.error(.serviceUnavailable, "not_stored", "the webhook could not be stored (\(failure)); retry"))
            }
            stored?.increment()
            reply(answer)
        }
    }

    private func refuse(_ failure: PluginFailure, provider: String, reply: @Sendable (WebhookReply) -> Void) {
        registry.makeCounter(descriptor: Self.verifications, labels: [("provider", provider), ("result", failure.status.rawValue)]).increment()
        switch failure.status {
        case .signatureMissing, .signatureInvalid, .signatureExpired, .signatureEncoding, .forbidden:
            reply(.error(.unauthorized, failure.status.rawValue, failure.message))
        case .pending:
            reply(.error(.serviceUnavailable, "certificate_pending", "the signing certificate could not be fetched yet (\(failure.message)); retry"))
        case .config, .unsupported:
            reply(.error(.notFound, "not_configured", "this \(provider) config cannot verify webhooks: \(failure.message)"))
        case .malformed, .invalidArgument, .ok:
            reply(.error(.badRequest, failure.status.rawValue, failure.message))
        case .internal:
            // The plugin failed, not the request: the provider should retry it.
            reply(.error(.internalServerError, "internal", "the \(provider) plugin could not verify the webhook: \(failure.message)"))
        }
    }

    /// SNS asks the endpoint to confirm its subscription by fetching SubscribeURL: through the
    /// host's fetch service, so only allowed hosts are reached, within its timeout.
    private func confirm(_ event: DeliveryEvent, provider: String) async -> WebhookReply {
        guard let fetcher else {
            return .error(.serviceUnavailable, "not_confirmed", "this receiver has no fetch service to confirm the subscription")
        }
        switch await fetcher.get(event.url) {
        case .success:
            logger.info("webhook subscription confirmed", metadata: ["provider": "\(provider)", "url": "\(event.url)"])
            return .json(.ok, ["confirmed": .bool(true)])
        case .failure(let failure):
            logger.warning("webhook subscription not confirmed", metadata: ["provider": "\(provider)", "reason": "\(failure)"])
            return .error(.badGateway, "not_confirmed", failure.description)
        }
    }
}
