import HostCore
import Hummingbird
import ProviderCrypto
import ProviderModel

/// `POST /receiver/{name}`: a webhook consumer that checks Standard Webhooks
/// signatures (the custom-webhook channel's), counts what it gets, and answers
/// with the statuses its configuration weights (2xx, 410, 429, 5xx…).
struct ReceiverAPI: ProviderAPI {
    let state: SandboxState
    var provider: SandboxProvider { .receiver }

    func register(on router: Router<SandboxContext>) {
        router.post("/receiver/:name") { request, context in
            let name = context.parameters.get("name") ?? ""
            return try await serve(request, context) { await handle($0, name: name) }
        }
    }

    func throttledReply() -> Reply { .text(429, "slow down").adding([("retry-after", "1")]) }
    func serverErrorReply(status: Int) -> Reply { .text(status, "receiver error") }

    private func handle(_ request: ReceivedRequest, name: String) async -> Reply {
        let settings = state.configuration.receivers.named[name]
        let signer = state.receiverSigners[name] ?? state.defaultReceiverSigner
        let webhook = InboundWebhook(path: request.path, headers: request.headers.map { KeyValue($0.name.lowercased(), $0.value) },
                                     body: request.body)
        do {
            try signer.verify(webhook, headers: .standard, nowSeconds: SystemClock.nowMilliseconds / 1000)
        } catch {
            state.stats.update(.receiver) {
                $0.signatureFailures += 1
                $0.rejected += 1
            }
            return .json(401) { json in
                json.beginObject()
                json.member("error", "invalid signature: \(error.message)")
                json.endObject()
            }
        }
        let status = pickStatus(settings?.responses ?? ["200": 1])
        let id = request.header("webhook-id") ?? ""
        let acknowledged = (200..<300).contains(status)
        let duplicate = acknowledged && state.duplicates[.receiver]!.recordAccepted(name + "\u{0}" + id)
        // The endpoint is the recipient and the payload what it reads: one payload acknowledged twice there was
        // delivered twice, whatever its webhook-id.
        let redelivered = acknowledged ? state.deliveries[.receiver]!.record([Delivery(recipients: [name], content: MessageContent(bytes: request.body))]) : 0
        if acknowledged { state.arrivals.record(.receiver, messages: 1) }
        state.stats.update(.receiver) {
            if acknowledged {
                $0.messagesAccepted += 1
                if duplicate { $0.duplicateSends += 1 }
                $0.duplicateDeliveries += redelivered
            } else {
                $0.rejected += 1
            }
        }
        switch status {
        case 429: return .text(429, "too many requests").adding([("retry-after", "1")])
        case 410: return .text(410, "endpoint disabled")
        default: return .json(status) { json in
            json.beginObject()
            json.member("received", id)
            json.endObject()
        }
        }
    }

    private func pickStatus(_ weights: [String: Double]) -> Int {
        let ordered = weights.compactMap { key, weight in Int(key).map { ($0, weight) } }.sorted { $0.0 < $1.0 }
        let total = ordered.reduce(0) { $0 + $1.1 }
        guard total > 0 else { return 200 }
        var roll = state.random.unit() * total
        for (status, weight) in ordered {
            if roll < weight { return status }
            roll -= weight
        }
        return ordered.last?.0 ?? 200
    }
}
