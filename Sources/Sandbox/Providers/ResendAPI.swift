import HostCore
import Hummingbird
import ProviderCrypto
import ProviderModel

/// `POST /emails` and `POST /emails/batch` as resend.com/docs/api-reference describes them.
struct ResendAPI: ProviderAPI {
    let state: SandboxState
    var provider: SandboxProvider { .resend }
    static let maximumBatch = 100

    func register(on router: Router<SandboxContext>) {
        router.post("/emails") { request, context in
            try await serve(request, context) { await handle($0, batch: false) }
        }
        router.post("/emails/batch") { request, context in
            try await serve(request, context) { await handle($0, batch: true) }
        }
    }

    func throttledReply() -> Reply {
        ResendError(status: 429, name: "rate_limit_exceeded",
                    message: "Too many requests. You can only make \(state.configuration.resend.rateLimitPerSecond) requests per second. "
                        + "See rate limit response headers for more information. Or contact support to increase rate limit.")
            .reply.adding([("retry-after", "1")])
    }

    func serverErrorReply(status: Int) -> Reply {
        ResendError(status: status, name: status == 500 ? "internal_server_error" : "application_error",
                    message: "An unexpected error occurred.").reply
    }

    private func handle(_ request: ReceivedRequest, batch: Bool) async -> Reply {
        let now = SystemClock.nowMilliseconds
        // Resend sits behind Cloudflare, which refuses requests without a User-Agent (error 1010).
        guard let agent = request.header("user-agent"), !agent.isEmpty else {
            state.stats.update(.resend) { $0.rejected += 1 }
            return .text(403, "error code: 1010")
        }
        guard let authorization = request.header("authorization") else {
            return refuse(ResendError(status: 401, name: "missing_api_key",
                                      message: "Missing API key in the authorization header. Include the following header in the request: Authorization: Bearer YOUR_API_KEY"))
        }
        guard authorization.hasPrefix("Bearer "), case let key = String(authorization.dropFirst(7)), isAccepted(key) else {
            return refuse(ResendError(status: 403, name: "invalid_api_key", message: "API key is invalid"))
        }
        let window = state.rateWindows[.resend]!.take(key, nowMilliseconds: now)
        let limitHeaders = [("ratelimit-limit", "\(window.limit)"), ("ratelimit-remaining", "\(window.remaining)"),
                            ("ratelimit-reset", "\(window.resetSeconds)")]
        guard window.allowed else {
            state.stats.update(.resend) { $0.rejected += 1 }
            return throttledReply().adding(limitHeaders)
        }
        var idempotencyKey: String?
        if let header = request.header("idempotency-key") {
            guard !header.isEmpty, header.utf8.count <= 256 else {
                return refuse(ResendError(status: 400, name: "invalid_idempotency_key",
                                          message: "The key must be between 1-256 chars.")).adding(limitHeaders)
            }
            idempotencyKey = key + "\u{0}" + (batch ? "batch\u{0}" : "") + header
        }
        let reply = state.idempotently(.resend, key: idempotencyKey, body: request.body, now: now, refusal: { conflict in
            if case .inFlight = conflict {
                return ResendError(status: 409, name: "concurrent_idempotent_requests",
                                   message: "Same idempotency key used while original request is still in progress. Try the request again later.").reply
            }
            return ResendError(status: 409, name: "invalid_idempotent_request",
                               message: "Same idempotency key used with a different request payload. Change your idempotency key or payload.").reply
        }, send: {
            batch ? sendBatch(request, duplicateKey: idempotencyKey, now: now) : sendOne(request, duplicateKey: idempotencyKey, now: now)
        })
        return reply.adding(limitHeaders)
    }

    private func isAccepted(_ key: String) -> Bool {
        let keys = state.configuration.resend.apiKeys
        return keys.isEmpty ? key.hasPrefix("re_") && key.utf8.count > 3 : keys.contains(key)
    }

    private func refuse(_ error: ResendError) -> Reply {
        state.stats.update(.resend) { $0.rejected += 1 }
        return error.reply
    }

    private func parse(_ body: [UInt8]) -> Result<JSONValue, ResendError> {
        do {
            return .success(try JSONParser.parse(body))
        } catch {
            return .failure(.validation("The request body is not valid JSON: \(error)."))
        }
    }

    private func sendOne(_ request: ReceivedRequest, duplicateKey: String?, now: Int64) -> Reply {
        let email: ResendEmail
        do {
            email = try ResendEmail(parse(request.body).get())
        } catch {
            return refuse(error)
        }
        let id = accept(email, now: now)
        state.countAccepted(.resend, [email.delivery], duplicateKey: duplicateKey)
        return .json(200) { json in
            json.beginObject()
            json.member("id", id)
            json.endObject()
        }
    }

    private func sendBatch(_ request: ReceivedRequest, duplicateKey: String?, now: Int64) -> Reply {
        let mode = request.header("x-batch-validation")?.lowercased() ?? "strict"
        guard mode == "strict" || mode == "permissive" else {
            return refuse(.validation("Invalid `x-batch-validation` header: use `strict` or `permissive`."))
        }
        let items: [JSONValue]
        switch parse(request.body) {
        case .failure(let error): return refuse(error)
        case .success(let value):
            guard let list = value.arrayValue else { return refuse(.validation("The batch must be a JSON array of emails.")) }
            items = list
        }
        guard !items.isEmpty, items.count <= Self.maximumBatch else {
            return refuse(.validation("The batch must contain between 1 and \(Self.maximumBatch) emails."))
        }
        var emails: [(index: Int, email: ResendEmail)] = []
        var errors: [(index: Int, message: String)] = []
        for (index, item) in items.enumerated() {
            do throws(ResendError) {
                // Resend's batch endpoint drops attachments without a word (its docs say it takes none); the sandbox
                // refuses them, so that a plugin which would mail invoices without the invoice fails its tests.
                if let files = item["attachments"]?.arrayValue, !files.isEmpty {
                    throw ResendError.validation("The `attachments` field is not supported on the batch endpoint; send the email through POST /emails.")
                }
                emails.append((index, try ResendEmail(item)))
            } catch {
                if mode == "strict" { return refuse(ResendError(status: error.status, name: error.name, message: "emails[\(index)]: \(error.message)")) }
                errors.append((index, error.message))
            }
        }
        let ids = emails.map { accept($0.email, now: now) }
        state.countAccepted(.resend, emails.map { $0.email.delivery }, duplicateKey: duplicateKey)
        return .json(200) { json in
            json.beginObject()
            json.key("data")
            json.beginArray()
            for id in ids {
                json.beginObject()
                json.member("id", id)
                json.endObject()
            }
            json.endArray()
            if mode == "permissive" {
                json.key("errors")
                json.beginArray()
                for error in errors {
                    json.beginObject()
                    json.member("index", number: Int64(error.index))
                    json.member("message", error.message)
                    json.endObject()
                }
                json.endArray()
            }
            json.endObject()
        }
    }

    /// A new email id, and the email's webhooks planned.
    private func accept(_ email: ResendEmail, now: Int64) -> String {
        let id = state.random.uuid()
        guard let url = state.webhookURL(.resend) else { return id }
        let events = ResendEvents(state: state, email: email, emailId: id, createdAt: now, url: url)
        state.planWebhooks(.resend, messageId: id, recipients: email.to, channel: .email, acceptedAt: now) { events.job(for: $0, acceptedAt: now) }
        return id
    }
}
