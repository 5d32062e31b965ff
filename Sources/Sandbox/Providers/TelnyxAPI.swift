import HostCore
import Hummingbird
import ProviderCrypto
import ProviderModel

/// A Telnyx API error: `{"errors":[{"code","title","detail","source":{"pointer"}}]}`, with `code` a string.
struct TelnyxError: Error, Sendable {
    var status: Int
    var code: String
    var title: String
    var detail: String
    var pointer: String?

    var reply: Reply {
        .json(status) { json in
            json.beginObject()
            json.key("errors")
            json.beginArray()
            json.beginObject()
            json.member("code", code)
            json.member("title", title)
            json.member("detail", detail)
            if let pointer {
                json.key("source")
                json.beginObject()
                json.member("pointer", pointer)
                json.endObject()
            }
            json.key("meta")
            json.beginObject()
            json.member("url", "https://developers.telnyx.com/docs/overview/errors/\(code)")
            json.endObject()
            json.endObject()
            json.endArray()
            json.endObject()
        }
    }
}

/// An accepted SMS, as Telnyx reports it in the response and in webhooks.
struct TelnyxMessage: Sendable {
    var id: String
    var from: String
    var to: String
    var text: String
    var messagingProfileId: String
    var parts: Int
    var encoding: String
    var receivedAt: Int64
    var webhookURL: String?
    /// The text and media the handset shows.
    var content: MessageContent
}

/// `POST /v2/messages` (developers.telnyx.com, telnyx-python `messages.send`).
struct TelnyxAPI: ProviderAPI {
    let state: SandboxState
    var provider: SandboxProvider { .telnyx }

    func register(on router: Router<SandboxContext>) {
        router.post("/v2/messages") { request, context in
            try await serve(request, context) { await handle($0) }
        }
    }

    func throttledReply() -> Reply {
        TelnyxError(status: 429, code: "10011", title: "Too many requests",
                    detail: "You have exceeded the rate limit. Please wait before retrying.").reply.adding([("retry-after", "1")])
    }

    func serverErrorReply(status: Int) -> Reply {
        TelnyxError(status: status, code: "10007", title: "Unexpected error",
                    detail: "An unexpected error occured.").reply
    }

    private func refuse(_ error: TelnyxError) -> Reply {
        state.stats.update(.telnyx) { $0.rejected += 1 }
        return error.reply
    }

    private func handle(_ request: ReceivedRequest) async -> Reply {
        let now = SystemClock.nowMilliseconds
        guard let authorization = request.header("authorization"), authorization.hasPrefix("Bearer "),
              case let key = String(authorization.dropFirst(7)), isAccepted(key) else {
            return refuse(TelnyxError(status: 401, code: "10009", title: "Authentication failed",
                                      detail: "The API key looks malformed. Check that you copied it correctly."))
        }
        let window = state.rateWindows[.telnyx]!.take(key, nowMilliseconds: now)
        let limitHeaders = [("x-ratelimit-limit", "\(window.limit)"), ("x-ratelimit-remaining", "\(window.remaining)"),
                            ("x-ratelimit-reset", "\(window.resetSeconds)")]
        guard window.allowed else {
            state.stats.update(.telnyx) { $0.rejected += 1 }
            return throttledReply().adding(limitHeaders)
        }
        var scopedKey: String?
        if let header = request.header("idempotency-key") {
            guard Self.isValidIdempotencyKey(header) else {
                return refuse(TelnyxError(status: 400, code: "10015", title: "Bad Request",
                                          detail: "The Idempotency-Key header must match ^[A-Za-z0-9_:-]{1,255}$.")).adding(limitHeaders)
            }
            scopedKey = key + "\u{0}" + header
        }
        let reply = state.idempotently(.telnyx, key: scopedKey, body: request.body, now: now, refusal: { conflict in
            if case .inFlight = conflict {
                return TelnyxError(status: 409, code: "10015", title: "Request in progress",
                                   detail: "A request with this Idempotency-Key is still being processed. Retry later.").reply
            }
            return TelnyxError(status: 422, code: "10015", title: "Idempotency key reused",
                               detail: "This Idempotency-Key was already used with a different request body.").reply
        }, send: {
            switch validate(request.body, now: now) {
            case .failure(let error):
                return refuse(error)
            case .success(let message):
                accept(message, duplicateKey: scopedKey, now: now)
                return .json(200) { json in
                    json.beginObject()
                    json.key("data")
                    TelnyxEvents.writePayload(message, status: "queued", errors: [], now: now, into: &json)
                    json.endObject()
                }
            }
        })
        return reply.adding(limitHeaders)
    }

    private func isAccepted(_ key: String) -> Bool {
        let keys = state.configuration.telnyx.apiKeys
        return keys.isEmpty ? key.hasPrefix("KEY") && key.utf8.count > 3 : keys.contains(key)
    }

    static func isValidIdempotencyKey(_ key: String) -> Bool {
        (1...255).contains(key.utf8.count) && key.utf8.allSatisfy {
            ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 95 || $0 == 58 || $0 == 45
        }
    }

    private func validate(_ body: [UInt8], now: Int64) -> Result<TelnyxMessage, TelnyxError> {
        let value: JSONValue
        do {
            value = try JSONParser.parse(body)
        } catch {
            return .failure(TelnyxError(status: 400, code: "10015", title: "Bad Request", detail: "The request body is not valid JSON: \(error)."))
        }
        guard case .object(let fields) = value else {
            return .failure(TelnyxError(status: 400, code: "10015", title: "Bad Request", detail: "The request body must be a JSON object."))
        }
        func missing(_ name: String) -> TelnyxError {
            TelnyxError(status: 422, code: "10004", title: "Missing required parameter",
                        detail: "The '\(name)' parameter is required.", pointer: "/\(name)")
        }
        func invalid(_ name: String, _ detail: String) -> TelnyxError {
            TelnyxError(status: 422, code: "10016", title: "Phone number must be in +E.164 format", detail: detail, pointer: "/\(name)")
        }
        guard let toValue = fields["to"], toValue != .null else { return .failure(missing("to")) }
        guard let to = toValue.stringValue, PhoneNumber.isE164(to) || PhoneNumber.isShortCode(to) else {
            return .failure(invalid("to", "The 'to' number must be a +E.164 number or a short code, e.g. +13125550100."))
        }
        let from = fields["from"]?.stringValue
        let profile = fields["messaging_profile_id"]?.stringValue
        if let from {
            guard PhoneNumber.isE164(from) || PhoneNumber.isShortCode(from) || PhoneNumber.isAlphanumericSender(from) else {
                return .failure(invalid("from", "The 'from' value must be a +E.164 number, a short code or an alphanumeric sender ID."))
            }
        } else if profile == nil || profile!.isEmpty {
            return .failure(TelnyxError(status: 422, code: "10004", title: "Missing required parameter",
                                        detail: "Either 'from' or 'messaging_profile_id' is required.", pointer: "/from"))
        }
        let media = fields["media_urls"]?.arrayValue ?? []
        let text = fields["text"]?.stringValue ?? ""
        if text.isEmpty, media.isEmpty { return .failure(missing("text")) }
        if let webhook = fields["webhook_url"], webhook != .null, webhook.stringValue == nil {
            return .failure(TelnyxError(status: 422, code: "10015", title: "Invalid parameter",
                                        detail: "'webhook_url' must be a string URL.", pointer: "/webhook_url"))
        }
        let isGSM = text.unicodeScalars.allSatisfy { $0.value < 0x80 }
        let perPart = isGSM ? (text.count <= 160 ? 160 : 153) : (text.unicodeScalars.count <= 70 ? 70 : 67)
        let length = isGSM ? text.count : text.unicodeScalars.count
        return .success(TelnyxMessage(
            id: state.random.uuid(), from: from ?? "", to: to, text: text, messagingProfileId: profile ?? "",
            parts: max(1, (length + perPart - 1) / perPart), encoding: isGSM ? "GSM-7" : "UCS-2", receivedAt: now,
            webhookURL: fields["webhook_url"]?.stringValue, content: MessageContent([text] + media.map { $0.stringValue ?? $0.compactText })))
    }

    private func accept(_ message: TelnyxMessage, duplicateKey: String?, now: Int64) {
        state.countAccepted(.telnyx, [Delivery(recipients: [message.to], content: message.content)], duplicateKey: duplicateKey)
        // Like Telnyx, a message's own webhook_url takes precedence over the profile's.
        guard let url = message.webhookURL ?? state.webhookURL(.telnyx) else { return }
        let events = TelnyxEvents(state: state, message: message, url: url)
        state.planWebhooks(.telnyx, messageId: message.id, recipients: [], channel: .sms, acceptedAt: now) { events.job(for: $0, acceptedAt: now) }
    }
}
