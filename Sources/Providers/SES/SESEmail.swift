import ProviderModel

/// A provider-side template named by a message's `payload` (message.h):
/// `{"template": "Name", "template_data": {...}}`.
struct SESTemplateChoice: Equatable {
    var name: String
    /// The variables as compact JSON text (SES takes them as a string).
    var data: String

    /// nil when the payload names no template (the payload is the webhook
    /// channel's field; email reads only its "template"); a problem when the template is not understood.
    static func read(_ payload: String, field: String) -> Result<SESTemplateChoice?, SESRefusal> {
        guard !payload.isEmpty, let document = JSONValue.parse(Array(payload.utf8)),
              let named = document["template"] else { return .success(nil) }
        guard let name = named.stringValue else {
            return .failure(SESRefusal("invalid_template", "\(field).payload.template must be a string, the template's name"))
        }
        guard (1...256).contains(name.utf8.count), name.utf8.allSatisfy(SESProvider.isTagByte) else {
            return .failure(SESRefusal("invalid_template", "\(field).payload.template must be 1-256 letters, digits, _ or -"))
        }
        let data = document["template_data"] ?? .object([:])
        guard case .object = data else {
            return .failure(SESRefusal("invalid_template_data", "\(field).payload.template_data must be a JSON object"))
        }
        return .success(SESTemplateChoice(name: name, data: data.compactText))
    }
}

/// Why a message is refused before any request, as a permanent outcome's code and message.
struct SESRefusal: Error {
    var code: String
    var message: String

    init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }
}

/// SES v2's request bodies (botocore `sesv2` model), written straight to JSON.
enum SESRequestBody {
    /// SES takes at most 50 recipients per message, To, Cc and Bcc together.
    static let maxRecipients = 50

    /// Why SES would refuse this message; nil when it can go.
    static func problem(_ message: OutboundMessage, template: SESTemplateChoice?, field: String) -> SESRefusal? {
        if message.channel != .email { return SESRefusal("unsupported_channel", "\(field): SES sends email only") }
        if message.from.isEmpty { return SESRefusal("missing_required_field", "\(field).from is empty") }
        if message.to.isEmpty { return SESRefusal("invalid_recipient", "\(field).to is empty") }
        let recipients = message.to.count + message.cc.count + message.bcc.count
        if recipients > maxRecipients {
            return SESRefusal("too_many_recipients", "\(field) has \(recipients) recipients in to, cc and bcc; SES takes at most \(maxRecipients)")
        }
        let addresses = [message.from] + message.to + message.cc + message.bcc + message.replyTo
        if !addresses.allSatisfy(HTTPHeaderRules.isSafeValue) {
            return SESRefusal("invalid_address", "\(field): an address contains CR, LF or NUL")
        }
        if template == nil {
            if message.subject.isEmpty { return SESRefusal("missing_required_field", "\(field).subject is empty") }
            if message.html.isEmpty && message.text.isEmpty {
                return SESRefusal("missing_required_field", "\(field) has neither html nor text")
            }
        } else if !message.metadata.isEmpty {
            // Headers go in the template's `Headers` (SendEmail) or each entry's `ReplacementHeaders` (SendBulkEmail);
            // metadata would be one more header, which a bulk entry shares with no one: refused rather than dropped.
            return SESRefusal("unsupported_field", "\(field): metadata cannot go with an SES template")
        }
        for header in message.headers where !HTTPHeaderRules.isToken(header.name) || !HTTPHeaderRules.isSafeValue(header.value) {
            return SESRefusal("invalid_header", "\(field).headers[\(header.name.prefix(40))]: the name must be a token, the value free of CR, LF and NUL")
        }
        if let refusal = attachmentProblem(message.attachments, field: field) { return refusal }
        for tag in message.tags {
            let valid = (1...256).contains(tag.name.utf8.count) && tag.name.utf8.allSatisfy(SESProvider.isTagByte)
                && tag.value.utf8.count <= 256 && tag.value.utf8.allSatisfy(SESProvider.isTagByte)
            if !valid {
                return SESRefusal("invalid_tag", "\(field).tags[\(tag.name.prefix(40))]: SES tag names and values take 1-256 letters, digits, _ or -")
            }
        }
        return nil
    }
}

extension SESRequestBody {
    /// SES takes a message of up to 40 MB, its files base64-encoded; a file name of up to 255 bytes.
    static let maxMessageBytes = 40_000_000

    /// File types SES refuses to send (SES Developer Guide, "Unsupported attachment types"), by extension.
    static let refusedExtensions: Set<String> = [
        "ade", "adp", "app", "asp", "bas", "bat", "cer", "chm", "cmd", "com", "cpl", "crt", "csh", "der", "exe", "fxp", "gadget",
        "hlp", "hta", "inf", "ins", "isp", "its", "js", "jse", "ksh", "lib", "lnk", "mad", "maf", "mag", "mam", "maq", "mar", "mas",
        "mat", "mau", "mav", "maw", "mda", "mdb", "mde", "mdt", "mdw", "mdz", "msc", "msh", "msh1", "msh2", "mshxml", "msh1xml",
        "msh2xml", "msi", "msp", "mst", "ops", "pcd", "pif", "plg", "prf", "prg", "reg", "scf", "scr", "sct", "shb", "shs", "sys",
        "ps1", "ps1xml", "ps2", "ps2xml", "psc1", "psc2", "tmp", "url", "vb", "vbe", "vbs", "vps", "vsmacros", "vss", "vst", "vsw",
        "ws", "wsc", "wsf", "wsh", "xnk",
    ]

    static func attachmentProblem(_ files: [Attachment], field: String) -> SESRefusal? {
        var encoded = 0
        for file in files {
            encoded += Base64.encodedCount(file.content.count)
            guard (1...255).contains(file.filename.utf8.count), HTTPHeaderRules.isSafeValue(file.filename + file.contentType) else {
                return SESRefusal("invalid_attachment", "\(field).attachments: a file name must be 1-255 bytes, and name and type free of CR, LF and NUL")
            }
            // "a.exe." and "a.exe " are still .exe to a mail client.
            let name = String(file.filename.reversed().drop { $0 == "." || $0 == " " }.reversed())
            if let dot = name.lastIndex(of: "."), refusedExtensions.contains(name[name.index(after: dot)...].lowercased()) {
                return SESRefusal("unsupported_attachment_type", "\(field).attachments: SES does not send files named *\(name[dot...].prefix(16))")
            }
        }
        if encoded > maxMessageBytes {
            return SESRefusal("attachments_too_large", "\(field).attachments: \(encoded) bytes once base64-encoded; SES takes a message of up to \(maxMessageBytes)")
        }
        return nil
    }

    /// `"Attachments":[{"FileName","RawContent","ContentType"?}]`, in a `Simple` or `Template` content object.
    static func attachments(_ files: [Attachment], into json: inout JSONWriter) {
        guard !files.isEmpty else { return }
        json.key("Attachments")
        json.beginArray()
        for file in files {
            json.beginObject()
            json.member("FileName", file.filename)
            if !file.contentType.isEmpty { json.member("ContentType", file.contentType) }
            json.member("RawContent", base64: file.content.bytes)
            json.endObject()
        }
        json.endArray()
    }

    static let maxEntries = 50

    /// `SendEmail`: `POST /v2/email/outbound-emails`.
    static func sendEmail(_ message: OutboundMessage, template: SESTemplateChoice?, configurationSet: String) -> [UInt8] {
        var json = JSONWriter(capacity: 256 + message.html.utf8.count + message.text.utf8.count
                                  + message.attachments.reduce(0) { $0 + Base64.encodedCount($1.content.count) + 128 })
        json.beginObject()
        json.member("FromEmailAddress", message.from)
        destination(message, into: &json)
        if !message.replyTo.isEmpty { json.member("ReplyToAddresses", strings: message.replyTo) }
        json.key("Content")
        json.beginObject()
        if let template {
            json.key("Template")
            templateObject(template.name, data: template.data, headers: message.headers, attachments: message.attachments, into: &json)
        } else {
            json.key("Simple")
            json.beginObject()
            json.key("Subject")
            text(message.subject, into: &json)
            json.key("Body")
            json.beginObject()
            if !message.text.isEmpty {
                json.key("Text")
                text(message.text, into: &json)
            }
            if !message.html.isEmpty {
                json.key("Html")
                text(message.html, into: &json)
            }
            json.endObject()
            let headers = headers(message)
            if !headers.isEmpty { json.member("Headers", pairs: headers, nameKey: "Name", valueKey: "Value") }
            attachments(message.attachments, into: &json)
            json.endObject()
        }
        json.endObject()
        if !message.tags.isEmpty { json.member("EmailTags", pairs: message.tags, nameKey: "Name", valueKey: "Value") }
        if !configurationSet.isEmpty { json.member("ConfigurationSetName", configurationSet) }
        json.endObject()
        return json.bytes
    }

    /// `SendBulkEmail`: `POST /v2/email/outbound-bulk-emails`, one template for up to
    /// 50 entries, each with its own destination, tags and variables (`data`, JSON text).
    static func bulkEmail(_ messages: [OutboundMessage], template: String, data: [String], configurationSet: String) -> [UInt8] {
        var json = JSONWriter(capacity: 256 + 160 * messages.count)
        json.beginObject()
        json.member("FromEmailAddress", messages.first?.from ?? "")
        if let replyTo = messages.first?.replyTo, !replyTo.isEmpty { json.member("ReplyToAddresses", strings: replyTo) }
        json.key("DefaultContent")
        json.beginObject()
        json.key("Template")
        templateObject(template, data: "{}", into: &json)
        json.endObject()
        json.key("BulkEmailEntries")
        json.beginArray()
        for (message, data) in zip(messages, data) {
            json.beginObject()
            destination(message, into: &json)
            if !message.tags.isEmpty { json.member("ReplacementTags", pairs: message.tags, nameKey: "Name", valueKey: "Value") }
            // Each entry's own headers (its one-click unsubscribe link, say): SES adds them to that email alone.
            if !message.headers.isEmpty { json.member("ReplacementHeaders", pairs: message.headers, nameKey: "Name", valueKey: "Value") }
            json.key("ReplacementEmailContent")
            json.beginObject()
            json.key("ReplacementTemplate")
            json.beginObject()
            json.member("ReplacementTemplateData", data)
            json.endObject()
            json.endObject()
            json.endObject()
        }
        json.endArray()
        if !configurationSet.isEmpty { json.member("ConfigurationSetName", configurationSet) }
        json.endObject()
        return json.bytes
    }

    /// The message's headers, and its metadata as one `X-Metadata` JSON header
    /// (SES has no metadata field; events carry headers back when the
    /// configuration set includes them).
    static func headers(_ message: OutboundMessage) -> [KeyValue] {
        guard !message.metadata.isEmpty else { return message.headers }
        var metadata = JSONWriter()
        metadata.beginObject()
        for pair in message.metadata.sorted(by: { $0.name < $1.name }) { metadata.member(pair.name, pair.value) }
        metadata.endObject()
        return message.headers + [KeyValue("X-Metadata", String(decoding: metadata.bytes, as: UTF8.self))]
    }

    private static func destination(_ message: OutboundMessage, into json: inout JSONWriter) {
        json.key("Destination")
        json.beginObject()
        json.member("ToAddresses", strings: message.to)
        if !message.cc.isEmpty { json.member("CcAddresses", strings: message.cc) }
        if !message.bcc.isEmpty { json.member("BccAddresses", strings: message.bcc) }
        json.endObject()
    }

    private static func text(_ data: String, into json: inout JSONWriter) {
        json.beginObject()
        json.member("Data", data)
        json.member("Charset", "UTF-8")
        json.endObject()
    }

    private static func templateObject(_ name: String, data: String, headers: [KeyValue] = [], attachments files: [Attachment] = [],
                                       into json: inout JSONWriter) {
        json.beginObject()
        json.member("TemplateName", name)
        json.member("TemplateData", data)
        if !headers.isEmpty { json.member("Headers", pairs: headers, nameKey: "Name", valueKey: "Value") }
        attachments(files, into: &json)
        json.endObject()
    }

}
