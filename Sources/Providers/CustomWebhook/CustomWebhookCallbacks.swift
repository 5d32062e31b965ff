import ProviderCrypto
import ProviderKit

/// Status callbacks (`POST /webhooks/custom/{send-config id}`): signed with the
/// same secret and scheme, carrying events in BatchSender's own JSON form
/// (docs/schemas.md), one object or `{"events":[…]}`.
extension CustomWebhookProvider {
    public func verify(_ request: InboundWebhook, context: some PluginContext) throws(PluginFailure) {
        try signature.verify(request, headers: .standard, nowSeconds: context.nowSeconds)
    }

    public func parse(_ request: InboundWebhook, context: some PluginContext) throws(PluginFailure) -> [DeliveryEvent] {
        guard let document = JSONValue.parse(request.body), case .object = document else {
            throw PluginFailure(.malformed, field: "body", "not a JSON object")
        }
        let objects = document["events"]?.arrayValue ?? [document]
        guard !objects.isEmpty else { throw PluginFailure(.malformed, field: "body.events", "no events") }
        // Without its own event_id, an event is known by the callback's webhook-id (and its place in it).
        let webhookId = request.header("webhook-id") ?? ""
        func fallbackId(_ index: Int, of count: Int) -> String { count == 1 ? webhookId : "\(webhookId)#\(index)" }
        var events: [DeliveryEvent] = []
        for (index, object) in objects.enumerated() {
            let field = document["events"] == nil ? "body" : "body.events[\(index)]"
            guard case .object = object, let typeName = object["type"]?.stringValue else {
                throw PluginFailure(.malformed, field: "\(field).type", "every event needs a type")
            }
            let type = DeliveryEvent.EventType(rawValue: typeName) ?? .unknown
            let bounce = object["bounce_class"]?.stringValue.flatMap(DeliveryEvent.BounceClass.init(rawValue:))
            let timestamp = try EventTimestamp.iso8601(member: "timestamp", of: object, field: "\(field).timestamp")
            func text(_ key: String) -> String { object[key]?.stringValue ?? "" }
            events.append(DeliveryEvent(
                type: type, bounceClass: type == .bounced ? (bounce ?? .hard) : nil, timestampMs: timestamp,
                eventId: text("event_id").isEmpty ? fallbackId(index, of: objects.count) : text("event_id"),
                providerMessageId: text("provider_message_id"), recipient: text("recipient"),
                reason: text("reason"), code: text("code"), url: text("url"), userAgent: text("user_agent"),
                raw: object.compactText))
        }
        return events
    }
}
