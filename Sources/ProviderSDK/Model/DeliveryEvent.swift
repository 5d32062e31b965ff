import Foundation

/// The normalised delivery event (event.h): one per affected recipient.
public struct DeliveryEvent: Sendable, Equatable {
    public enum EventType: String, Sendable, Codable, CaseIterable {
        case unknown, queued, sent, delivered, deferred, bounced, complained, rejected, failed
        case opened, clicked, unsubscribed
        /// The provider asks to confirm a webhook subscription; `url` confirms it (event.h).
        case subscriptionConfirmation = "subscription_confirmation"
    }

    public enum BounceClass: String, Sendable, Codable {
        case hard, soft
    }

    public var type: EventType
    public var bounceClass: BounceClass?
    /// Milliseconds since the Unix epoch; nil when the provider did not say.
    public var timestampMs: Int64?
    public var eventId: String
    public var providerMessageId: String
    public var recipient: String
    public var reason: String
    public var code: String
    public var url: String
    public var userAgent: String
    /// The provider's event as JSON text.
    public var raw: String

    public init(type: EventType, bounceClass: BounceClass? = nil, timestampMs: Int64? = nil, eventId: String,
                providerMessageId: String, recipient: String, reason: String = "", code: String = "",
                url: String = "", userAgent: String = "", raw: String = "") {
        self.type = type
        self.bounceClass = bounceClass
        self.timestampMs = timestampMs
        self.eventId = eventId
        self.providerMessageId = providerMessageId
        self.recipient = recipient
        self.reason = reason
        self.code = code
        self.url = url
        self.userAgent = userAgent
        self.raw = raw
    }
}

extension DeliveryEvent {
    /// The JSON form of docs/schemas.md, with the provider id the host knows it by.
    public func document(provider: String) -> JSONValue {
        var object: [String: JSONValue] = [
            "type": .string(type.rawValue),
            "provider": .string(provider),
            "event_id": .string(eventId),
            "provider_message_id": .string(providerMessageId),
            "recipient": .string(recipient),
            "timestamp": timestampMs.map { .string(ISO8601.extendedUTC(milliseconds: $0)) } ?? .null,
            "raw": JSONValue.parse(Array(raw.utf8)) ?? .string(raw),
        ]
        if let bounceClass { object["bounce_class"] = .string(bounceClass.rawValue) }
        for (key, value) in [("reason", reason), ("code", code), ("url", url), ("user_agent", userAgent)] where !value.isEmpty {
            object[key] = .string(value)
        }
        return .object(object)
    }
}
