import ProviderModel

/// A Resend error as the API returns it: `{"statusCode","name","message"}`.
struct ResendError: Error, Sendable {
    var status: Int
    var name: String
    var message: String

    var reply: Reply {
        .json(status) { json in
            json.beginObject()
            json.member("statusCode", number: Int64(status))
            json.member("name", name)
            json.member("message", message)
            json.endObject()
        }
    }

    static func validation(_ message: String) -> ResendError {
        ResendError(status: 422, name: "validation_error", message: message)
    }

    static func missing(_ field: String) -> ResendError {
        ResendError(status: 422, name: "missing_required_field", message: "Missing `\(field)` field.")
    }
}

/// One SendEmailRequest, checked as Resend checks it (resend.yaml).
struct ResendEmail: Sendable {
    static let maximumRecipients = 50

    var from: String
    var to: [String]
    var cc: [String]
    var bcc: [String]
    var subject: String
    var tags: [(name: String, value: String)]
    /// Subject and bodies (or the template and its variables): what each recipient reads.
    var content: MessageContent
    /// Its one-click unsubscribe link, when its headers carry a valid one.
    var unsubscribeURL: String?
    var attachments: [ReceivedAttachment] = []

    var delivery: Delivery { Delivery(recipients: to + cc + bcc, content: content, unsubscribeURL: unsubscribeURL, attachments: attachments) }

    init(_ value: JSONValue) throws(ResendError) {
        guard case .object(let fields) = value else { throw .validation("The email must be a JSON object.") }
        guard let fromValue = fields["from"], fromValue != .null else { throw .missing("from") }
        guard let from = fromValue.stringValue, EmailAddress.bare(from) != nil else {
            throw .validation("Invalid `from` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.")
        }
        guard let toValue = fields["to"], toValue != .null else { throw .missing("to") }
        let to = try Self.addresses(toValue, field: "to")
        guard !to.isEmpty else { throw .missing("to") }
        guard let subjectValue = fields["subject"], subjectValue != .null else { throw .missing("subject") }
        guard let subject = subjectValue.stringValue else { throw .validation("The `subject` field must be a string.") }
        let cc = try fields["cc"].map { value throws(ResendError) in try Self.addresses(value, field: "cc") } ?? []
        let bcc = try fields["bcc"].map { value throws(ResendError) in try Self.addresses(value, field: "bcc") } ?? []
        if let replyTo = fields["reply_to"] { _ = try Self.addresses(replyTo, field: "reply_to") }
        guard to.count + cc.count + bcc.count <= Self.maximumRecipients else {
            throw .validation("Too many recipients: `to`, `cc` and `bcc` together allow up to \(Self.maximumRecipients) addresses.")
        }
        for field in ["html", "text"] {
            if let content = fields[field], content != .null, content.stringValue == nil {
                throw .validation("The `\(field)` field must be a string.")
            }
        }
        let hasTemplate = fields["template"].map { $0 != .null } ?? false
        if hasTemplate, fields["html"] != nil || fields["text"] != nil {
            throw .validation("The `template` field cannot be used together with `html` or `text`.")
        }
        if !hasTemplate, fields["html"]?.stringValue == nil, fields["text"]?.stringValue == nil, fields["react"] == nil {
            throw .validation("Missing `html` or `text` field.")
        }
        var unsubscribeURL: String?
        if let headers = fields["headers"], headers != .null {
            guard case .object(let members) = headers, members.values.allSatisfy({ $0.stringValue != nil }) else {
                throw .validation("The `headers` field must be an object whose values are strings.")
            }
            switch OneClickUnsubscribe.check(members.map { ($0.key, $0.value.stringValue ?? "") }) {
            case .absent: break
            case .valid(let url): unsubscribeURL = url
            case .invalid(let problem): throw .validation("The `headers` field: \(problem).")
            }
        }
        var tags: [(String, String)] = []
        if let tagsValue = fields["tags"], tagsValue != .null {
            guard let list = tagsValue.arrayValue else { throw .validation("The `tags` field must be an array of `{name, value}` objects.") }
            for tag in list {
                guard let name = tag["name"]?.stringValue, let value = tag["value"]?.stringValue else {
                    throw .validation("Each tag needs a string `name` and `value`.")
                }
                guard TagText.isValid(name), TagText.isValid(value) else {
                    throw .validation("Tags should only contain ASCII letters, numbers, underscores, or dashes, up to 256 characters.")
                }
                tags.append((name, value))
            }
        }
        if let attachments = fields["attachments"], attachments != .null {
            guard let list = attachments.arrayValue else { throw .validation("The `attachments` field must be an array.") }
            for attachment in list where attachment["content"]?.stringValue == nil && attachment["path"]?.stringValue == nil {
                throw ResendError(status: 422, name: "invalid_attachment", message: "Attachment must have either a `content` or `path`.")
            }
            // A `path` is a URL Resend fetches; the sandbox fetches nothing, so only `content` files are read.
            if list.allSatisfy({ $0["path"] == nil }) {
                do {
                    self.attachments = try ReceivedAttachments.read(attachments, names: ("filename", "content", "content_type"))
                } catch {
                    throw ResendError(status: 422, name: "invalid_attachment", message: "The `attachments` field \(error.message).")
                }
            }
        }
        if let scheduled = fields["scheduled_at"], scheduled != .null, scheduled.stringValue == nil {
            throw .validation("The `scheduled_at` field must be a date string.")
        }
        self.from = from
        self.to = to
        self.cc = cc
        self.bcc = bcc
        self.subject = subject
        self.tags = tags
        self.unsubscribeURL = unsubscribeURL
        content = MessageContent([subject, fields["html"]?.stringValue ?? "", fields["text"]?.stringValue ?? "",
                                  fields["template"]?.compactText ?? ""] + ReceivedAttachments.contentParts(attachments))
    }

    /// A string or an array of strings, each an address.
    private static func addresses(_ value: JSONValue, field: String) throws(ResendError) -> [String] {
        let list: [JSONValue]
        switch value {
        case .null: return []
        case .string: list = [value]
        case .array(let items): list = items
        default: throw .validation("Invalid `\(field)` field. It must be a string or an array of strings.")
        }
        var out: [String] = []
        for item in list {
            guard let text = item.stringValue, let bare = EmailAddress.bare(text) else {
                throw .validation("Invalid `\(field)` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.")
            }
            out.append(bare)
        }
        return out
    }
}
