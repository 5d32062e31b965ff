import Foundation
import ProviderCrypto
import ProviderKit

extension CustomWebhookProvider {
    public func prepare(_ messages: [OutboundMessage], context: some PluginContext) throws(PluginFailure) -> PreparedSend {
        guard messages.count == 1, let message = messages.first else {
            throw PluginFailure(.invalidArgument, field: "messages", "\(messages.count) messages; a webhook carries exactly one")
        }
        guard message.channel == .webhook else {
            return PreparedSend(requests: [], refused: [.permanent(0, code: "unsupported_channel",
                "messages[0].channel: \(message.channel.rawValue); this plugin sends webhooks only")])
        }
        guard message.attachments.isEmpty else {
            return PreparedSend(requests: [], refused: [.attachmentsUnsupported(0, "a webhook carries its JSON payload only")])
        }
        let body: [UInt8]
        if message.payload.isEmpty {
            body = Self.defaultPayload(message, nowMilliseconds: context.nowMilliseconds)
        } else {
            body = Array(message.payload.utf8)
            guard case .object? = JSONValue.parse(body) else {
                return PreparedSend(requests: [], refused: [.permanent(0, code: "invalid_payload", "messages[0].payload is not a JSON object")])
            }
        }
        for header in message.headers {
            let bad = !HTTPHeaderRules.isToken(header.name) || !HTTPHeaderRules.isSafeValue(header.value)
                || Self.reservedHeaders.contains(header.name.lowercased())
            if bad {
                return PreparedSend(requests: [], refused: [.permanent(0, code: "invalid_header",
                    "messages[0].headers[\(header.name.prefix(40))]: not a token, CR/LF in the value, or a header the plugin sets")])
            }
        }
        let id = Self.webhookId(message.idempotencyKey)
        let timestamp = context.nowSeconds
        let headers = [
            KeyValue("content-type", "application/json"),
            KeyValue("user-agent", Self.userAgent),
            KeyValue("webhook-id", id),
            KeyValue("webhook-timestamp", String(timestamp)),
            KeyValue("webhook-signature", signature.sign(id: id, timestamp: timestamp, body: body)),
        ] + extraHeaders + message.headers
        return PreparedSend(requests: [PreparedRequest(method: "POST", url: url, headers: headers, body: body, messageIndices: [0])],
                            refused: [])
    }

    /// The spec's recommended shape, when the message brings no payload of its own.
    static func defaultPayload(_ message: OutboundMessage, nowMilliseconds: Int64) -> [UInt8] {
        var data: [String: JSONValue] = ["id": .string(message.id)]
        if !message.to.isEmpty { data["to"] = .array(message.to.map(JSONValue.string)) }
        for (key, value) in [("subject", message.subject), ("text", message.text), ("html", message.html)] where !value.isEmpty {
            data[key] = .string(value)
        }
        if !message.metadata.isEmpty { data["metadata"] = .object(message.metadata.dictionary.mapValues(JSONValue.string)) }
        let document: JSONValue = .object([
            "type": .string("message.created"),
            "timestamp": .string(ISO8601.extendedUTC(milliseconds: nowMilliseconds)),
            "data": .object(data),
        ])
        return Array(document.compactText.utf8)
    }

    /// `webhook-id` is the message's idempotency key, stable across retries. The
    /// spec forbids `.` in it (it separates the signed parts), and it must be a
    /// header value, so any other key is sent as its SHA-256.
    static func webhookId(_ key: String) -> String {
        let usable = !key.isEmpty && key.utf8.count <= 200 && key.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: ".") }
        return usable ? key : "msg_" + Encoding.hex(Digest.sha256(Array(key.utf8)))
    }

    public func interpret(_ result: HTTPResult, for messages: [OutboundMessage], context: some PluginContext) -> [SendOutcome] {
        messages.indices.map { index in
            if let failure = result.transportFailure {
                return .retryable(index, code: "transport_\(failure.rawValue)", result.transportMessage)
            }
            let status = result.status
            switch status {
            case 200...299:
                return .accepted(index, id: Self.webhookId(messages[index].idempotencyKey))
            case 410:
                return .permanent(index, code: "410", "the endpoint answered 410 Gone: it asks not to be sent to again")
            case 429:
                // The endpoint's own rate limit: wait as it asks, without spending an attempt.
                return .throttled(index, after: result.retryAfterMs(nowMs: context.nowMilliseconds), code: "429", "HTTP 429")
            case 408, 500...599:
                return .retryable(index, after: result.retryAfterMs(nowMs: context.nowMilliseconds), code: String(status), "HTTP \(status)")
            case 300...399:
                return .retryable(index, code: String(status), "HTTP \(status): redirects are not followed, and count as a failed attempt")
            default:
                return .permanent(index, code: String(status), "HTTP \(status)")
            }
        }
    }
}
