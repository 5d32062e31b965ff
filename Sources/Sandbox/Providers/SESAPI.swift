import HostCore
import Hummingbird
import ProviderCrypto
import ProviderModel

/// SES v2's `SendEmail` and `SendBulkEmail` (botocore's sesv2 model), with
/// every request's SigV4 signature checked against the configured credentials.
struct SESAPI: ProviderAPI {
    let state: SandboxState
    let verifier: SigV4Verifier
    var provider: SandboxProvider { .ses }
    static let maximumBulkEntries = 50

    init(state: SandboxState) {
        self.state = state
        verifier = SigV4Verifier(service: "ses", credentials: state.configuration.ses.awsCredentials)
    }

    func register(on router: Router<SandboxContext>) {
        router.post("/v2/email/outbound-emails") { request, context in
            try await serve(request, context) { await handle($0, bulk: false) }
        }
        router.post("/v2/email/outbound-bulk-emails") { request, context in
            try await serve(request, context) { await handle($0, bulk: true) }
        }
    }

    func throttledReply() -> Reply {
        SESError(status: 429, code: "TooManyRequestsException", message: "Maximum sending rate exceeded.").reply(requestId: state.random.uuid())
    }

    func serverErrorReply(status: Int) -> Reply {
        SESError(status: status, code: status == 503 ? "ServiceUnavailable" : "InternalFailure",
                 message: "The request processing has failed because of an unknown error, exception or failure.").reply(requestId: state.random.uuid())
    }

    private func handle(_ request: ReceivedRequest, bulk: Bool) async -> Reply {
        let now = SystemClock.nowMilliseconds
        let requestId = state.random.uuid()
        let received = SigV4Verifier.Received(method: request.method, path: request.path, query: request.query,
                                              headers: request.headers, body: request.body)
        let region: String
        switch verifier.verify(received, nowMilliseconds: now) {
        case .success(let signer):
            region = signer.region
        case .failure(let refusal):
            state.stats.update(.ses) {
                $0.signatureFailures += 1
                $0.rejected += 1
            }
            let status: Int
            if case .incompleteSignature = refusal { status = 400 } else { status = 403 }
            return SESError(status: status, code: refusal.code, message: refusal.message).reply(requestId: requestId)
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(request.body)
        } catch {
            return refuse(SESError(status: 400, code: "SerializationException", message: "The request body is not valid JSON: \(error)."), requestId)
        }
        do {
            return bulk ? try sendBulk(value, region: region, requestId: requestId, body: request.body, now: now)
                        : try sendOne(value, region: region, requestId: requestId, body: request.body, now: now)
        } catch {
            return refuse(error, requestId)
        }
    }

    /// A bulk entry's headers as SES sends them: the template's, each replaced by the entry's of the same name.
    private static func entryUnsubscribeURL(_ templateHeaders: [(name: String, value: String)], _ entry: JSONValue,
                                            index: Int) throws(SESError) -> String? {
        let field = "BulkEmailEntries[\(index)].ReplacementHeaders"
        let replacements = try SESEmail.headers(entry["ReplacementHeaders"], field: field)
        let replaced = Set(replacements.map { $0.name.lowercased() })
        return try SESEmail.unsubscribeURL(templateHeaders.filter { !replaced.contains($0.name.lowercased()) } + replacements, field: field)
    }

    private func refuse(_ error: SESError, _ requestId: String) -> Reply {
        state.stats.update(.ses) { $0.rejected += 1 }
        return error.reply(requestId: requestId)
    }

    private func sendOne(_ value: JSONValue, region: String, requestId: String, body: [UInt8], now: Int64) throws(SESError) -> Reply {
        guard case .object = value else { throw .badRequest("The request body must be a JSON object.") }
        let from = try SESEmail.from(value["FromEmailAddress"])
        var destination = try SESEmail.destination(value["Destination"], field: "Destination")
        guard let content = value["Content"], case .object(let kinds) = content else { throw .badRequest("Content is required.") }
        let present = ["Simple", "Raw", "Template"].filter { kinds[$0] != nil && kinds[$0] != .null }
        guard present.count == 1 else { throw .badRequest("Content must contain exactly one of Simple, Raw or Template.") }
        var subject = ""
        let rendered: MessageContent
        var headers: [(name: String, value: String)] = []
        var files: [ReceivedAttachment] = []
        switch present[0] {
        case "Simple":
            let simple = kinds["Simple"]!
            guard let text = simple["Subject"]?["Data"]?.stringValue else { throw .badRequest("Content.Simple.Subject.Data is required.") }
            subject = text
            guard let bodyPart = simple["Body"], bodyPart["Text"]?["Data"]?.stringValue != nil || bodyPart["Html"]?["Data"]?.stringValue != nil else {
                throw .badRequest("Content.Simple.Body needs Text.Data or Html.Data.")
            }
            files = try SESEmail.attachments(simple["Attachments"], field: "Content.Simple.Attachments")
            rendered = MessageContent([subject, bodyPart["Text"]?["Data"]?.stringValue ?? "", bodyPart["Html"]?["Data"]?.stringValue ?? ""]
                                      + ReceivedAttachments.contentParts(files))
            headers = try SESEmail.headers(simple["Headers"], field: "Content.Simple.Headers")
        case "Raw":
            guard let data = kinds["Raw"]?["Data"]?.stringValue else { throw .badRequest("Content.Raw.Data is required.") }
            if destination.to.isEmpty, destination.cc.isEmpty, destination.bcc.isEmpty {
                destination.to = try SESEmail.mimeRecipients(data)
            }
            rendered = MessageContent(["raw", data])
        default:
            let template = kinds["Template"]!
            try Self.checkTemplate(template, field: "Content.Template")
            files = try SESEmail.attachments(template["Attachments"], field: "Content.Template.Attachments")
            rendered = MessageContent(["template", template.compactText])
            headers = try SESEmail.headers(template["Headers"], field: "Content.Template.Headers")
        }
        let email = SESEmail(from: from, to: destination.to, cc: destination.cc, bcc: destination.bcc, subject: subject,
                             tags: try SESEmail.tags(value["EmailTags"], field: "EmailTags"),
                             configurationSet: value["ConfigurationSetName"]?.stringValue, region: region, content: rendered,
                             unsubscribeURL: try SESEmail.unsubscribeURL(headers, field: "Content headers"), attachments: files)
        let recipientCount = email.recipients.count
        guard recipientCount > 0 else { throw .badRequest("Destination must name at least one recipient.") }
        guard recipientCount <= SESEmail.maximumRecipients else {
            throw SESError(status: 400, code: "MessageRejected", message: "Recipient count exceeds \(SESEmail.maximumRecipients).")
        }
        switch email.trigger {
        case .rejected:
            throw SESError(status: 400, code: "MessageRejected",
                           message: "Email address is not verified. The following identities failed the check in region \(region.uppercased()): \(email.recipients[0])")
        case .throttled:
            throw SESError(status: 429, code: "TooManyRequestsException", message: "Maximum sending rate exceeded.")
        case nil:
            break
        }
        guard state.rateWindows[.ses]!.take("account", cost: recipientCount, nowMilliseconds: now).allowed else {
            throw SESError(status: 429, code: "TooManyRequestsException", message: "Maximum sending rate exceeded.")
        }
        let id = accept(email, now: now)
        count([email.delivery], requestBody: body)
        return Reply.json(200) { json in
            json.beginObject()
            json.member("MessageId", id)
            json.endObject()
        }.adding([("x-amzn-requestid", requestId)])
    }

    private func sendBulk(_ value: JSONValue, region: String, requestId: String, body: [UInt8], now: Int64) throws(SESError) -> Reply {
        guard case .object = value else { throw .badRequest("The request body must be a JSON object.") }
        let from = try SESEmail.from(value["FromEmailAddress"])
        guard let template = value["DefaultContent"]?["Template"] else { throw .badRequest("DefaultContent.Template is required.") }
        try Self.checkTemplate(template, field: "DefaultContent.Template")
        guard let entries = value["BulkEmailEntries"]?.arrayValue, !entries.isEmpty else {
            throw .badRequest("BulkEmailEntries must list at least one entry.")
        }
        guard entries.count <= Self.maximumBulkEntries else {
            throw .badRequest("BulkEmailEntries allows at most \(Self.maximumBulkEntries) entries; \(entries.count) were given.")
        }
        let defaultTags = try SESEmail.tags(value["DefaultEmailTags"], field: "DefaultEmailTags")
        let templateHeaders = try SESEmail.headers(template["Headers"], field: "DefaultContent.Template.Headers")
        var emails: [SESEmail] = []
        for (index, entry) in entries.enumerated() {
            let destination = try SESEmail.destination(entry["Destination"], field: "BulkEmailEntries[\(index)].Destination")
            let email = SESEmail(from: from, to: destination.to, cc: destination.cc, bcc: destination.bcc, subject: "",
                                 tags: defaultTags + (try SESEmail.tags(entry["ReplacementTags"], field: "BulkEmailEntries[\(index)].ReplacementTags")),
                                 configurationSet: value["ConfigurationSetName"]?.stringValue, region: region,
                                 content: MessageContent(["template", template.compactText, entry["ReplacementEmailContent"]?.compactText ?? ""]),
                                 unsubscribeURL: try Self.entryUnsubscribeURL(templateHeaders, entry, index: index))
            guard !email.recipients.isEmpty else { throw .badRequest("BulkEmailEntries[\(index)].Destination must name at least one recipient.") }
            guard email.recipients.count <= SESEmail.maximumRecipients else {
                throw .badRequest("BulkEmailEntries[\(index)]: recipient count exceeds \(SESEmail.maximumRecipients).")
            }
            emails.append(email)
        }
        let total = emails.reduce(0) { $0 + $1.recipients.count }
        guard state.rateWindows[.ses]!.take("account", cost: total, nowMilliseconds: now).allowed else {
            throw SESError(status: 429, code: "TooManyRequestsException", message: "Maximum sending rate exceeded.")
        }
        var results: [(status: String, id: String?, error: String?)] = []
        var delivered: [Delivery] = []
        for email in emails {
            switch email.trigger {
            case .rejected: results.append(("MESSAGE_REJECTED", nil, "Email address is not verified: \(email.recipients[0])"))
            case .throttled: results.append(("ACCOUNT_THROTTLED", nil, "Maximum sending rate exceeded."))
            case nil:
                results.append(("SUCCESS", accept(email, now: now), nil))
                delivered.append(email.delivery)
            }
        }
        count(delivered, requestBody: body)
        return Reply.json(200) { json in
            json.beginObject()
            json.key("BulkEmailEntryResults")
            json.beginArray()
            for result in results {
                json.beginObject()
                json.member("Status", result.status)
                if let error = result.error { json.member("Error", error) }
                if let id = result.id { json.member("MessageId", id) }
                json.endObject()
            }
            json.endArray()
            json.endObject()
        }.adding([("x-amzn-requestid", requestId)])
    }

    private static func checkTemplate(_ template: JSONValue, field: String) throws(SESError) {
        let named = ["TemplateName", "TemplateArn"].contains { template[$0]?.stringValue?.isEmpty == false }
        let inline = template["TemplateContent"].map { $0 != .null } ?? false
        guard named || inline else { throw .badRequest("\(field) needs TemplateName, TemplateArn or TemplateContent.") }
        if let data = template["TemplateData"], data != .null {
            guard let text = data.stringValue, (try? JSONParser.parse(Array(text.utf8))) != nil else {
                throw .badRequest("\(field).TemplateData must be a string holding a JSON object.")
            }
        }
    }

    /// SES has no idempotency key: the same request body accepted twice is a duplicate send.
    private func count(_ deliveries: [Delivery], requestBody: [UInt8]) {
        state.countAccepted(.ses, deliveries, duplicateKey: Encoding.hex(Digest.sha256(requestBody)))
    }

    /// A new message id, and the message's SNS notifications planned.
    private func accept(_ email: SESEmail, now: Int64) -> String {
        let id = state.random.sesMessageId()
        guard let url = state.webhookURL(.ses) else { return id }
        let events = SESEvents(state: state, email: email, messageId: id, sentAt: now, url: url)
        state.planWebhooks(.ses, messageId: id, recipients: email.to, channel: .email, acceptedAt: now) { events.job(for: $0, acceptedAt: now) }
        return id
    }
}
