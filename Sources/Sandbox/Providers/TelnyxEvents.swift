import ProviderCrypto
import ProviderModel

/// Telnyx's message webhooks for one accepted SMS: `message.sent`, then
/// `message.finalized` with the final `to[].status`, Ed25519-signed over
/// `"{telnyx-timestamp}|{body}"` with the account's key.
struct TelnyxEvents: Sendable {
    let state: SandboxState
    let message: TelnyxMessage
    let url: String

    struct Failure: Sendable {
        var code: String
        var title: String
        var detail: String
    }

    func job(for step: TimedStep, acceptedAt: Int64) -> WebhookJob? {
        let eventType: String, status: String
        var errors: [Failure] = []
        switch step.step {
        case .sent: (eventType, status) = ("message.sent", "sent")
        case .delivered, .complained, .opened, .clicked: (eventType, status) = ("message.finalized", "delivered")
        case .hardBounce:
            (eventType, status) = ("message.finalized", "delivery_failed")
            errors = [Failure(code: "40008", title: "Undeliverable", detail: "The message could not be delivered to the handset.")]
        case .softBounce:
            (eventType, status) = ("message.finalized", "delivery_unconfirmed")
            errors = [Failure(code: "40006", title: "Recipient server unavailable", detail: "No delivery receipt arrived from the carrier.")]
        case .failed:
            (eventType, status) = ("message.finalized", "sending_failed")
            errors = [Failure(code: "40001", title: "Not routable", detail: "The destination number is not routable.")]
        case .delayed:
            return nil // SMS has no delay event: the final webhook simply comes later.
        }
        let eventTime = acceptedAt + step.dueOffsetMilliseconds
        let eventId = state.random.derivedUUID("telnyx:\(message.id):\(step.step)")
        let keys = state.telnyxKeys
        let message = self.message, url = self.url, failures = errors
        return WebhookJob(
            provider: .telnyx, url: url, eventId: eventId,
            build: { attempt, now in
                var json = JSONWriter(capacity: 1024)
                json.beginObject()
                json.key("data")
                json.beginObject()
                json.member("event_type", eventType)
                json.member("id", eventId)
                json.member("occurred_at", Self.telnyxTime(eventTime))
                json.key("payload")
                Self.writePayload(message, status: status, errors: failures, now: eventTime, into: &json)
                json.member("record_type", "event")
                json.endObject()
                json.key("meta")
                json.beginObject()
                json.member("attempt", number: Int64(attempt))
                json.member("delivered_to", url)
                json.endObject()
                json.endObject()
                let timestamp = "\(now / 1000)"
                let signature = keys.sign(Array(timestamp.utf8) + [UInt8(ascii: "|")] + json.bytes)
                return ([KeyValue("content-type", "application/json"), KeyValue("user-agent", "telnyx-webhooks"),
                         KeyValue("telnyx-signature-ed25519", Encoding.base64(signature)),
                         KeyValue("telnyx-timestamp", timestamp)], json.bytes)
            },
            schedule: .telnyx(scale: state.configuration.webhooks.retryTimeScale),
            needsConfirmedSubscription: false)
    }

    /// `2023-11-14T22:13:20.000+00:00`, the offset form Telnyx writes.
    static func telnyxTime(_ milliseconds: Int64) -> String {
        String(ISO8601.extendedUTC(milliseconds: milliseconds).dropLast()) + "+00:00"
    }

    /// The OutboundMessagePayload: the API's `data` and the webhooks' `payload`.
    static func writePayload(_ message: TelnyxMessage, status: String, errors: [Failure], now: Int64, into json: inout JSONWriter) {
        json.beginObject()
        json.member("record_type", "message")
        json.member("direction", "outbound")
        json.member("id", message.id)
        json.member("type", "SMS")
        json.member("messaging_profile_id", message.messagingProfileId)
        json.key("from")
        json.beginObject()
        json.member("phone_number", message.from)
        json.member("carrier", "Telnyx")
        json.member("line_type", "Wireless")
        json.endObject()
        json.key("to")
        json.beginArray()
        json.beginObject()
        json.member("phone_number", message.to)
        json.member("status", status)
        json.member("carrier", "SANDBOX WIRELESS")
        json.member("line_type", "Wireless")
        json.endObject()
        json.endArray()
        json.member("text", message.text)
        json.key("media")
        json.beginArray()
        json.endArray()
        json.member("encoding", message.encoding)
        json.member("parts", number: Int64(message.parts))
        json.key("tags")
        json.beginArray()
        json.endArray()
        json.key("cost")
        json.null()
        json.member("received_at", telnyxTime(message.receivedAt))
        json.key("sent_at")
        if status == "queued" { json.null() } else { json.string(telnyxTime(now)) }
        json.key("completed_at")
        if status == "queued" || status == "sent" { json.null() } else { json.string(telnyxTime(now)) }
        json.member("valid_until", telnyxTime(message.receivedAt + 24 * 3600 * 1000))
        json.key("webhook_url")
        if let url = message.webhookURL { json.string(url) } else { json.null() }
        json.key("errors")
        json.beginArray()
        for error in errors {
            json.beginObject()
            json.member("code", error.code)
            json.member("title", error.title)
            json.member("detail", error.detail)
            json.endObject()
        }
        json.endArray()
        json.endObject()
    }
}
