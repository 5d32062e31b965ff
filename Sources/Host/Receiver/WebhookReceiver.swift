import Foundation
import HostCore
import Hummingbird
import Logging
import Pipeline
import Prometheus
import ProviderCrypto
import ProviderModel
import ServiceLifecycle
import Storage
import Synchronization

/// The public webhook receiver: `POST /webhooks/{provider}` (the deployment's
/// managed account) and `POST /webhooks/{provider}/{sendConfigId}` (a BYOK
/// config's own URL and secret). A request is verified by its plugin, then
/// stored in the `webhooks` stream, and answered 200 only once JetStream has
/// acknowledged it: what a provider is told was taken is never lost. Each
/// request awaits its own ack, so requests never wait on each other's rounds.
public final class WebhookReceiver: Service, Sendable {
    private let settings: WebhookIngestSettings
    private let instances: WebhookInstances
    /// Its own connection: other roles' batch publishes would hold a shared one for a page at a time.
    private let jetStream: JetStream
    /// Requests waiting for an ack now; past `pendingLimit`, a request gets 503 at once.
    private let waiting = Atomic<Int>(0)
    private let fetcher: DocumentFetcher?
    private let logger: Logger
    /// The process's one registry, shared with the API and the roles' swift-metrics.
    private let registry = PrometheusMetricsFactory.defaultRegistry
    private let onReady: @Sendable (Int) -> Void
    /// Each provider's valid and stored counters, made once: the registry's lookup by name and labels takes a
    /// lock and builds a key, twice a request otherwise.
    private let counters: [String: (valid: Counter, stored: Counter)]

    public init(settings: WebhookIngestSettings, instances: WebhookInstances, jetStream: JetStream, fetcher: DocumentFetcher?,
                logger: Logger, onReady: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.settings = settings
        self.instances = instances
        self.jetStream = jetStream
        self.fetcher = fetcher
        self.logger = logger.role("receiver")
        self.onReady = onReady
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

    public func run() async throws {
        let router = Router()
        router.get("health") { _, _ in Self.json(.ok, ["status": .string("ok")]) }
        router.get("metrics") { [registry] _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        router.post("webhooks/{provider}") { request, context in
            await self.receive(request, provider: context.parameters.get("provider") ?? "", sendConfigID: nil)
        }
        router.post("webhooks/{provider}/{config}") { request, context in
            await self.receive(request, provider: context.parameters.get("provider") ?? "", sendConfigID: context.parameters.get("config"))
        }
        let onReady = self.onReady
        let app = Application(router: router,
                              configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "batchsender-receiver"),
                              onServerRunning: { channel in onReady(channel.localAddress?.port ?? 0) }, logger: logger)
        // Run as a service of the caller's group (its graceful shutdown), not a group of its own.
        try await app.run()
    }

    func receive(_ request: Request, provider: String, sendConfigID: String?) async -> Response {
        let instance: PluginInstance
        do {
            switch try await instances.instance(provider: provider, sendConfigID: sendConfigID) {
            case .success(let found): instance = found
            case .failure(let problem): return Self.error(.notFound, "not_found", problem.description)
            }
        } catch {
            logger.warning("webhook: send-config lookup failed", metadata: ["error": "\(error)"])
            return Self.error(.serviceUnavailable, "unavailable", "the send-config could not be read now; retry")
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > settings.maxBodyBytes {
            return Self.error(.contentTooLarge, "too_large", "the body is \(length) bytes; at most \(settings.maxBodyBytes) are taken")
        }
        let body: [UInt8]
        do {
            body = Array(buffer: try await request.body.collect(upTo: settings.maxBodyBytes))
        } catch {
            return Self.error(.contentTooLarge, "too_large", "the body is over \(settings.maxBodyBytes) bytes")
        }
        let headers = request.headers.map { KeyValue($0.name.canonicalName, $0.value) }
        let inbound = InboundWebhook(method: "POST", path: request.uri.path, headers: headers, body: body)
        do {
            try await instance.verify(inbound)
        } catch {
            count(provider, result: error.status.rawValue)
            return refusal(error, provider: provider)
        }
        counters[provider]?.valid.increment()
        let events: [DeliveryEvent]
        do { events = try instance.parse(inbound) } catch {
            return Self.error(.badRequest, "malformed", "the webhook is authentic but cannot be read: \(error.message)")
        }
        if let confirmation = events.first(where: { $0.type == .subscriptionConfirmation }) {
            return await confirm(confirmation, provider: provider)
        }
        let envelope = WebhookEnvelope(provider: provider, sendConfigID: sendConfigID, receivedAtMs: WallClock.nowMilliseconds, request: inbound)
        // A provider's retry of a stored request names the same events: JetStream's duplicate window drops it.
        let ids = events.map(\.eventId).filter { !$0.isEmpty }
        let messageID = ids.isEmpty ? nil : Encoding.hex(Digest.sha256(Array("\(provider)|\(sendConfigID ?? "")|\(ids.joined(separator: ","))".utf8)))
        let message = OutgoingMessage(subject: Streams.webhookSubject(provider: provider, event: events.first?.type.rawValue ?? "unknown"),
                                      id: messageID, data: envelope.encoded())
        guard waiting.add(1, ordering: .relaxed).newValue <= settings.pendingLimit else {
            waiting.subtract(1, ordering: .relaxed)
            return Self.error(.serviceUnavailable, "not_stored", "\(settings.pendingLimit) webhooks already wait to be stored; retry")
        }
        defer { waiting.subtract(1, ordering: .relaxed) }
        do {
            try await jetStream.publish(message, timeoutMs: settings.publishTimeoutMs)
        } catch {
            logger.warning("webhook not stored", metadata: ["provider": "\(provider)", "error": "\(error)"])
            return Self.error(.serviceUnavailable, "not_stored", "the webhook could not be stored (\(error)); retry")
        }
        counters[provider]?.stored.increment()
        return Self.json(.ok, ["stored": .bool(true), "events": .number(Double(events.count))])
    }

    private func refusal(_ failure: PluginFailure, provider: String) -> Response {
        switch failure.status {
        case .signatureMissing, .signatureInvalid, .signatureExpired, .signatureEncoding, .forbidden:
            return Self.error(.unauthorized, failure.status.rawValue, failure.message)
        case .pending:
            return Self.error(.serviceUnavailable, "pending", "the signing certificate could not be fetched yet (\(failure.message)); retry")
        case .config, .unsupported:
            return Self.error(.notFound, "not_configured", "this \(provider) config cannot verify webhooks: \(failure.message)")
        case .malformed, .invalidArgument, .ok:
            return Self.error(.badRequest, failure.status.rawValue, failure.message)
        case .internal:
            // The plugin failed, not the request: the provider should retry it.
            return Self.error(.internalServerError, "internal", "the \(provider) plugin could not verify the webhook: \(failure.message)")
        }
    }

    /// SNS asks the endpoint to confirm its subscription by fetching SubscribeURL: through the
    /// host's fetch service, so only allowed hosts are reached, within its timeout.
    private func confirm(_ event: DeliveryEvent, provider: String) async -> Response {
        guard let fetcher else {
            return Self.error(.serviceUnavailable, "not_confirmed", "this receiver has no fetch service to confirm the subscription")
        }
        switch await fetcher.get(event.url) {
        case .success:
            logger.info("webhook subscription confirmed", metadata: ["provider": "\(provider)", "url": "\(event.url)"])
            return Self.json(.ok, ["confirmed": .bool(true)])
        case .failure(let failure):
            logger.warning("webhook subscription not confirmed", metadata: ["provider": "\(provider)", "reason": "\(failure)"])
            return Self.error(.badGateway, "not_confirmed", failure.description)
        }
    }

    private func count(_ provider: String, result: String) {
        registry.makeCounter(descriptor: Self.verifications, labels: [("provider", provider), ("result", result)]).increment()
    }

    static func json(_ status: HTTPResponse.Status, _ object: [String: JSONValue]) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(string: JSONValue.object(object).compactText)))
    }

    static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        json(status, ["error": .object(["code": .string(code), "message": .string(message)])])
    }
}
