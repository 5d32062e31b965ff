import ProviderModel

/// One SendEmailRequest of Resend's API (resend.yaml), built from a normalised
/// message; `problem` says why the message cannot be sent, before any request.
struct ResendEmail {
    var from: String
    var to: [String]
    var subject: String
    var html: String?
    var text: String?
    var cc: [String]?
    var bcc: [String]?
    var replyTo: [String]?
    var headers: [String: String]?
    var tags: [KeyValue]?
    /// Sent only through `POST /emails`: the batch endpoint does not take attachments.
    var attachments: [Attachment]

    /// The request's JSON, members in sorted order (headers too): a retry must send the same bytes under its
    /// Idempotency-Key, or Resend answers 409. Written straight into bytes: Foundation's JSONEncoder cost more
    /// than the rest of a send (`JSONWriter`).
    func write(into json: inout JSONWriter) {
        json.beginObject()
        if !attachments.isEmpty {
            json.key("attachments")
            json.beginArray()
            for file in attachments {
                json.beginObject()
                json.member("content", base64: file.content.bytes)
                if !file.contentType.isEmpty { json.member("content_type", file.contentType) }
                json.member("filename", file.filename)
                json.endObject()
            }
            json.endArray()
        }
        if let bcc { json.member("bcc", strings: bcc) }
        if let cc { json.member("cc", strings: cc) }
        json.member("from", from)
        if let headers {
            json.key("headers")
            json.beginObject()
            // By UTF-8 bytes, as JSONEncoder sorted them (Swift's `<` compares normalised text, another order).
            for name in headers.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) { json.member(name, headers[name]!) }
            json.endObject()
        }
        if let html { json.member("html", html) }
        if let replyTo { json.member("reply_to", strings: replyTo) }
        json.member("subject", subject)
        if let tags { json.member("tags", pairs: tags) }
        if let text { json.member("text", text) }
        json.member("to", strings: to)
        json.endObject()
    }

    /// Resend takes at most 50 addresses in `to`.
    static let maxRecipients = 50

    init(_ message: OutboundMessage) {
        from = message.from
        to = message.to
        subject = message.subject
        html = message.html.isEmpty ? nil : message.html
        text = message.text.isEmpty ? nil : message.text
        cc = message.cc.isEmpty ? nil : message.cc
        bcc = message.bcc.isEmpty ? nil : message.bcc
        replyTo = message.replyTo.isEmpty ? nil : message.replyTo
        headers = message.headers.isEmpty ? nil : message.headers.dictionary
        tags = message.tags.isEmpty ? nil : message.tags
        attachments = message.attachments
    }

    /// Resend takes an email of up to 40 MB after its files are base64-encoded.
    static let maxEncodedAttachmentBytes = 40_000_000

    /// Why Resend would refuse this message, as (code, message); nil when it can go.
    static func problem(_ message: OutboundMessage, index: Int) -> (String, String)? {
        let field = "messages[\(index)]"
        if message.channel != .email { return ("unsupported_channel", "\(field): Resend sends email only") }
        if message.from.isEmpty { return ("missing_required_field", "\(field).from is empty") }
        if message.to.isEmpty { return ("invalid_recipient", "\(field).to is empty") }
        if message.to.count > maxRecipients {
            return ("too_many_recipients", "\(field).to has \(message.to.count) addresses; Resend takes at most \(maxRecipients)")
        }
        if message.subject.isEmpty { return ("missing_required_field", "\(field).subject is empty") }
        if message.html.isEmpty && message.text.isEmpty { return ("missing_required_field", "\(field) has neither html nor text") }
        let addresses = [message.from] + message.to + message.cc + message.bcc + message.replyTo
        if !addresses.allSatisfy(HTTPHeaderRules.isSafeValue) {
            return ("invalid_address", "\(field): an address contains CR, LF or NUL")
        }
        for header in message.headers {
            let bad = header.name.isEmpty || !HTTPHeaderRules.isSafeValue(header.name + header.value)
            if bad { return ("invalid_header", "\(field).headers[\(header.name.prefix(40))]: empty name, or CR, LF or NUL") }
        }
        if message.attachments.reduce(0, { $0 + Base64.encodedCount($1.content.count) }) > maxEncodedAttachmentBytes {
            return ("attachments_too_large", "\(field).attachments: more than \(maxEncodedAttachmentBytes) bytes once base64-encoded; Resend's limit")
        }
        for file in message.attachments where file.filename.isEmpty || !HTTPHeaderRules.isSafeValue(file.filename + file.contentType) {
            return ("invalid_attachment", "\(field).attachments: a file without a name, or CR, LF or NUL in its name or type")
        }
        for tag in message.tags {
            let valid = !tag.name.isEmpty && tag.name.utf8.count <= 256 && tag.value.utf8.count <= 256
                && (tag.name + tag.value).utf8.allSatisfy { isTagByte($0) }
            if !valid { return ("invalid_tag", "\(field).tags[\(tag.name.prefix(40))]: names and values are A-Z a-z 0-9 _ -, up to 256") }
        }
        return nil
    }

    private static func isTagByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }
}
