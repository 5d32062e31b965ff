import ProviderModel

/// What every message of a batch carries, checked for the send-config's channel.
/// Subject, html and text may hold `{{variable}}` placeholders that each
/// recipient's variables fill when the batch is sent.
package enum BatchPayload {
    package static let members: Set<String> = ["from", "replyTo", "subject", "html", "text", "headers", "tags", "data"]

    /// The payload as it will be stored, or the first member at fault (`payload.subject`…). `defaults` are the
    /// send-config's; nil for a stored template, whose sender a send-config may supply when it is used.
    package static func check(_ fields: JSONFields, channel: Channel, defaults: [String: String]?) throws(APIError) -> JSONValue {
        var stored: [String: JSONValue] = [:]
        for name in ["from", "replyTo"] {
            if let value = try fields.string(name, maxLength: 320) {
                try RecipientAddress.checkSender(value, channel: channel, field: fields.field(name))
                stored[name] = .string(value)
            }
        }
        if let subject = try fields.string("subject", maxLength: 998) { stored["subject"] = .string(subject) }
        if let html = try fields.string("html", maxLength: 1 << 20) { stored["html"] = .string(html) }
        if let text = try fields.string("text", maxLength: 1 << 20) { stored["text"] = .string(text) }
        if let headers = try fields.stringMap("headers") { stored["headers"] = .object(headers.mapValues { .string($0) }) }
        if let tags = try fields.stringMap("tags") { stored["tags"] = .object(tags.mapValues { .string($0) }) }
        if let data = fields.object["data"], data != .null {
            guard channel == .webhook else { throw APIError.invalid(fields.field("data"), "only webhook send-configs take a data object") }
            stored["data"] = data
        }
        switch channel {
        case .email:
            guard stored["from"] != nil || defaults?["from"] != nil || defaults == nil else {
                throw APIError.invalid(fields.field("from"), "is required (the send-config has no default from-address)")
            }
            guard stored["subject"] != nil else { throw APIError.invalid(fields.field("subject"), "is required for email") }
            guard stored["html"] != nil || stored["text"] != nil else {
                throw APIError.invalid(fields.field("html"), "an email needs html or text")
            }
        case .sms:
            guard case .string(let text)? = stored["text"], !text.isEmpty else {
                throw APIError.invalid(fields.field("text"), "is required for SMS")
            }
            guard text.utf8.count <= 1_600 else { throw APIError.invalid(fields.field("text"), "an SMS is at most 1600 bytes") }
            for name in ["subject", "html"] where stored[name] != nil {
                throw APIError.invalid(fields.field(name), "SMS messages have no \(name)")
            }
        case .webhook:
            guard stored["data"] != nil || stored["text"] != nil else {
                throw APIError.invalid(fields.field("data"), "a webhook message needs data or text")
            }
        }
        return .object(stored)
    }
}
