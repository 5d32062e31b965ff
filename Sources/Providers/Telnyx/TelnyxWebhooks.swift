import ProviderCrypto
import ProviderKit

extension TelnyxProvider {
    /// Ed25519 over `"{telnyx-timestamp}|{body}"` with the account's public key, 300 s tolerance.
    public func verify(_ request: InboundWebhook, context: some PluginContext) throws(PluginFailure) {
        let signature = try request.signatureHeader("telnyx-signature-ed25519")
        let timestamp = try request.signatureHeader("telnyx-timestamp")
        _ = try InboundWebhook.checkTimestamp(timestamp, header: "telnyx-timestamp", nowSeconds: context.nowSeconds,
                                              tolerance: Self.tolerance)
        guard let bytes = Encoding.unbase64(signature), bytes.count == Ed25519.signatureBytes else {
            throw PluginFailure(.signatureEncoding, field: "header:telnyx-signature-ed25519", "expected the base64 of a 64-byte signature")
        }
        let signed = Array(timestamp.utf8) + [UInt8(ascii: "|")] + request.body
        guard Ed25519.verify(signature: bytes, message: signed, publicKey: publicKey) else {
            throw PluginFailure(.signatureInvalid, field: "header:telnyx-signature-ed25519", "the signature does not match the body and public key")
        }
    }

    /// `{"data":{"event_type","id","occurred_at","payload":{"id","to":[{phone_number,status}],"errors"}}}`
    /// → one event per recipient in `payload.to`.
    public func parse(_ request: InboundWebhook, context: some PluginContext) throws(PluginFailure) -> [DeliveryEvent] {
        guard let document = JSONValue.parse(request.body), let data = document["data"], case .object = data else {
            throw PluginFailure(.malformed, field: "body.data", "not a Telnyx webhook: expected a JSON object with data")
        }
        guard let eventType = data["event_type"]?.stringValue else {
            throw PluginFailure(.malformed, field: "body.data.event_type", "missing")
        }
        let payload = data["payload"] ?? .null
        let eventId = data["id"]?.stringValue ?? ""
        let timestamp = try EventTimestamp.iso8601(member: "occurred_at", of: data, field: "body.data.occurred_at")
        let error = payload["errors"]?.arrayValue?.first
        let errorCode = error?["code"]?.stringValue ?? ""
        let errorText = [error?["title"]?.stringValue, error?["detail"]?.stringValue].compactMap { $0 }.joined(separator: ": ")
        let recipients = payload["to"]?.arrayValue ?? []
        let raw = String(decoding: request.body, as: UTF8.self)
        let targets: [JSONValue] = recipients.isEmpty ? [.null] : recipients
        return targets.enumerated().map { index, recipient in
            var event = DeliveryEvent(
                type: .unknown, timestampMs: timestamp, eventId: targets.count > 1 ? "\(eventId)#\(index)" : eventId,
                providerMessageId: payload["id"]?.stringValue ?? "", recipient: recipient["phone_number"]?.stringValue ?? "",
                reason: errorText, code: errorCode, raw: raw)
            let status = recipient["status"]?.stringValue ?? ""
            switch (eventType, status) {
            case ("message.sent", _), ("message.finalized", "sent"): event.type = .sent
            case ("message.finalized", "delivered"): event.type = .delivered
            case ("message.finalized", "delivery_failed"):
                event.type = .bounced
                event.bounceClass = .hard
            case ("message.finalized", "sending_failed"): event.type = .failed
            case ("message.finalized", "expired"):
                event.type = .failed
                if event.reason.isEmpty { event.reason = "expired before delivery" }
            case ("message.finalized", "delivery_unconfirmed"):
                // Handed to the carrier, but no delivery receipt came back.
                event.type = .sent
                if event.reason.isEmpty { event.reason = "delivery_unconfirmed" }
            case (_, "queued"), (_, "sending"): event.type = .queued
            default: event.type = .unknown
            }
            return event
        }
    }
}
