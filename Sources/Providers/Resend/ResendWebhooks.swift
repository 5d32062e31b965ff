import ProviderCrypto
import ProviderKit

extension ResendProvider {
    public func verify(_ request: InboundWebhook, context: some PluginContext) throws(PluginFailure) {
        guard let webhookSignature else {
            throw PluginFailure(.config, field: "config.webhook_secret", "this send-config has no webhook_secret, so it cannot take webhooks")
        }
        try webhookSignature.verify(request, headers: .svix, nowSeconds: context.nowSeconds)
    }

    /// `{"type","created_at","data":{…}}` → one normalised event. Resend names
    /// no recipient per event, so the event carries the first of `data.to`.
    public func parse(_ request: InboundWebhook, context: some PluginContext) throws(PluginFailure) -> [DeliveryEvent] {
        guard let document = JSONValue.parse(request.body), case .object = document else {
            throw PluginFailure(.malformed, field: "body", "not a JSON object")
        }
        guard let type = document["type"]?.stringValue else {
            throw PluginFailure(.malformed, field: "body.type", "missing: every Resend event has a type")
        }
        let data = document["data"] ?? .null
        let recipients: [String] = data["to"]?.arrayValue?.compactMap(\.stringValue) ?? data["to"]?.stringValue.map { [$0] } ?? []
        let timestamp = try EventTimestamp.iso8601(member: "created_at", of: document, field: "body.created_at")
        var event = DeliveryEvent(
            type: .unknown, timestampMs: timestamp,
            eventId: request.header("svix-id") ?? "", providerMessageId: data["email_id"]?.stringValue ?? "",
            recipient: recipients.first ?? "", raw: String(decoding: request.body, as: UTF8.self))
        switch type {
        case "email.sent": event.type = .sent
        case "email.delivered": event.type = .delivered
        case "email.delivery_delayed": event.type = .deferred
        case "email.complained": event.type = .complained
        case "email.opened": event.type = .opened
        case "email.scheduled": event.type = .queued
        case "email.clicked":
            event.type = .clicked
            event.url = data["click"]?["link"]?.stringValue ?? ""
            event.userAgent = data["click"]?["userAgent"]?.stringValue ?? ""
        case "email.bounced":
            Self.describeBounce(data["bounce"] ?? .null, into: &event)
        case "email.failed":
            event.type = .failed
            event.reason = data["failed"]?["reason"]?.stringValue ?? ""
        case "email.suppressed":
            event.type = .rejected
            let suppressed = data["suppressed"] ?? .null
            event.reason = suppressed["message"]?.stringValue ?? suppressed["reason"]?.stringValue ?? "suppressed"
            event.code = suppressed["reason"]?.stringValue ?? ""
        default:
            event.type = .unknown
        }
        return [event]
    }

    /// Permanent bounces are hard, Transient and Undetermined soft; a bounce
    /// because the address is on a suppression list is a rejection. Payloads
    /// from before 2024 carry only `message`, and were hard bounces.
    static func describeBounce(_ bounce: JSONValue, into event: inout DeliveryEvent) {
        let kind = bounce["type"]?.stringValue ?? "Permanent"
        let subType = bounce["subType"]?.stringValue ?? ""
        event.reason = bounce["message"]?.stringValue ?? [kind, subType].filter { !$0.isEmpty }.joined(separator: ": ")
        event.code = bounce["diagnosticCode"]?.stringValue
            ?? bounce["diagnosticCode"]?.arrayValue?.compactMap(\.stringValue).joined(separator: "; ") ?? ""
        if subType == "Suppressed" || subType == "OnAccountSuppressionList" {
            event.type = .rejected
            return
        }
        event.type = .bounced
        event.bounceClass = kind == "Permanent" ? .hard : .soft
    }
}
