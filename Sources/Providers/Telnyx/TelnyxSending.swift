import Foundation
import ProviderCrypto
import ProviderKit

extension TelnyxProvider {
    public func prepare(_ messages: [OutboundMessage], context: some PluginContext) throws(PluginFailure) -> PreparedSend {
        guard messages.count == 1, let message = messages.first else {
            throw PluginFailure(.invalidArgument, field: "messages", "\(messages.count) messages; Telnyx takes one recipient per request")
        }
        func refuse(_ code: String, _ text: String) -> PreparedSend {
            PreparedSend(requests: [], refused: [.permanent(0, code: code, text)])
        }
        guard message.attachments.isEmpty else { return PreparedSend(requests: [], refused: [.attachmentsUnsupported(0, "an SMS carries no files")]) }
        guard message.to.count == 1, let to = message.to.first else {
            return refuse("one_recipient_per_message", "messages[0].to has \(message.to.count) numbers; Telnyx sends to exactly one")
        }
        guard Self.isE164(to) || Self.isShortCode(to) else {
            return refuse("invalid_recipient", "messages[0].to \"\(to.prefix(32))\" is not a +E.164 number or a short code")
        }
        guard !message.text.isEmpty else { return refuse("missing_text", "messages[0].text is empty; an SMS needs text") }
        let sender = message.from.isEmpty ? from : message.from
        let profile = message.messagingProfile.isEmpty ? messagingProfileId : message.messagingProfile
        if !sender.isEmpty, !Self.isSender(sender) {
            return refuse("invalid_sender", "messages[0].from \"\(sender.prefix(32))\" is not a +E.164 number, short code or alphanumeric sender ID")
        }
        guard !sender.isEmpty || !profile.isEmpty else {
            return refuse("missing_sender", "no from number and no messaging_profile_id, in the message or the send-config")
        }
        // Written in a fixed order: a retry must send the same bytes, or Telnyx
        // refuses the reused Idempotency-Key as a different body (JSONEncoder's key order varies).
        var json = JSONWriter(capacity: 128 + message.text.utf8.count)
        json.beginObject()
        json.member("to", to)
        if sender.isEmpty { json.member("messaging_profile_id", profile) } else { json.member("from", sender) }
        json.member("text", message.text)
        json.member("type", "SMS")
        json.endObject()
        let body = json.bytes
        let headers = [
            KeyValue("authorization", "Bearer \(apiKey)"),
            KeyValue("user-agent", Self.userAgent),
            KeyValue("content-type", "application/json"),
            KeyValue("idempotency-key", Self.idempotencyKey(message.idempotencyKey)),
        ]
        let request = PreparedRequest(method: "POST", url: baseURL + "/v2/messages", headers: headers, body: Array(body), messageIndices: [0])
        return PreparedSend(requests: [request], refused: [])
    }

    /// Telnyx takes keys matching `^[A-Za-z0-9_:-]{1,255}$`; any other key is sent as its SHA-256.
    static func idempotencyKey(_ key: String) -> String {
        let usable = (1...255).contains(key.utf8.count) && key.utf8.allSatisfy {
            (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0)
                || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "-")
        }
        return usable ? key : "sha256-" + Encoding.hex(Digest.sha256(Array(key.utf8)))
    }

    /// What `interpret` reads of an answer: a message's record is some thirty members, of which only its id matters.
    static let answerShape = JSONShape.members(["data": .members(["id": .all]), "errors": .all])

    public func interpret(_ result: HTTPResult, for messages: [OutboundMessage], context: some PluginContext) -> [SendOutcome] {
        let document = result.transportFailure == nil ? JSONValue.parse(result.body, keeping: Self.answerShape) : nil
        return messages.indices.map { index in
            if let failure = result.transportFailure {
                return .retryable(index, code: "transport_\(failure.rawValue)", result.transportMessage)
            }
            if (200...299).contains(result.status) {
                guard let id = document?["data"]?["id"]?.stringValue, !id.isEmpty else {
                    return .retryable(index, code: "unreadable_response", "HTTP \(result.status) without data.id")
                }
                return .accepted(index, id: id)
            }
            let error = document?["errors"]?.arrayValue?.first
            let code = error?["code"]?.stringValue ?? String(result.status)
            let text = [error?["title"]?.stringValue, error?["detail"]?.stringValue].compactMap { $0 }.joined(separator: ": ")
            let message = text.isEmpty ? "HTTP \(result.status)" : text
            // Telnyx's own SDK obeys x-should-retry before looking at the status.
            let retry: Bool = switch result.headers.first(named: "x-should-retry")?.lowercased() {
            case "true": true
            case "false": false
            default: [408, 409, 429].contains(result.status) || result.status >= 500
            }
            guard retry else { return .permanent(index, code: code, message) }
            let after = result.retryAfterMs(nowMs: context.nowMilliseconds)
            // 429 and error 10011 ("too many requests") are the account's rate, not the message.
            return result.status == 429 || code == "10011"
                ? .throttled(index, after: after, code: code, message) : .retryable(index, after: after, code: code, message)
        }
    }
}
