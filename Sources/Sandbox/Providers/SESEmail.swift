import ProviderCrypto
import ProviderModel

/// An SES v2 error: `x-amzn-ErrorType` names it (botocore reads the code from
/// there), the body carries the message.
struct SESError: Error, Sendable {
    var status: Int
    var code: String
    var message: String

    func reply(requestId: String) -> Reply {
        Reply.json(status) { json in
            json.beginObject()
            json.member("message", message)
            json.endObject()
        }.adding([("x-amzn-errortype", "\(code):http://internal.amazon.com/coral/com.amazonaws.sesv2/"),
                  ("x-amzn-requestid", requestId)])
    }

    static func badRequest(_ message: String) -> SESError {
        SESError(status: 400, code: "BadRequestException", message: message)
    }
}

/// One message of a SendEmail call, or one entry of a SendBulkEmail call.
struct SESEmail: Sendable {
    var from: String
    var to: [String]
    var cc: [String]
    var bcc: [String]
    var subject: String
    var tags: [(name: String, value: String)]
    var configurationSet: String?
    var region: String
    /// Subject and bodies, the raw message, or the template and its data: what each recipient reads.
    var content: MessageContent
    /// Its one-click unsubscribe link, when its headers carry a valid one.
    var unsubscribeURL: String? = nil
    var attachments: [ReceivedAttachment] = []

    var recipients: [String] { to + cc + bcc }
    var delivery: Delivery { Delivery(recipients: recipients, content: content, unsubscribeURL: unsubscribeURL, attachments: attachments) }

    /// File extensions SES refuses (SES Developer Guide, "Unsupported attachment types"), a few of them: enough for
    /// a plugin's refusal to be tested against an answer, not the whole list.
    static let refusedExtensions: Set<String> = ["bat", "cmd", "com", "exe", "js", "msi", "scr", "vbs"]

    /// `Simple.Attachments` or `Template.Attachments`, checked as SES checks them.
    static func attachments(_ value: JSONValue?, field: String) throws(SESError) -> [ReceivedAttachment] {
        let files: [ReceivedAttachment]
        do { files = try ReceivedAttachments.read(value, names: ("FileName", "RawContent", "ContentType")) } catch {
            throw .badRequest("\(field) \(error.message).")
        }
        for file in files {
            guard file.filename.utf8.count <= 255 else { throw .badRequest("\(field): FileName is longer than 255 characters.") }
            if let dot = file.filename.lastIndex(of: "."), refusedExtensions.contains(file.filename[file.filename.index(after: dot)...].lowercased()) {
                throw SESError(status: 400, code: "MessageRejected", message: "\(field): attachment type \(file.filename[dot...]) is not supported.")
            }
        }
        return files
    }

    /// A `[{Name, Value}]` header list (`Simple.Headers`, `Template.Headers`, `ReplacementHeaders`), checked.
    static func headers(_ value: JSONValue?, field: String) throws(SESError) -> [(name: String, value: String)] {
        guard let value, value != .null else { return [] }
        guard let list = value.arrayValue else { throw .badRequest("\(field) must be a list of {Name, Value}.") }
        var headers: [(name: String, value: String)] = []
        for (index, item) in list.enumerated() {
            guard let name = item["Name"]?.stringValue, !name.isEmpty, let text = item["Value"]?.stringValue else {
                throw .badRequest("\(field)[\(index)] needs a Name and a Value.")
            }
            headers.append((name, text))
        }
        return headers
    }

    /// The one-click unsubscribe link of `headers` (nil when there is none); a malformed pair is refused.
    static func unsubscribeURL(_ headers: [(name: String, value: String)], field: String) throws(SESError) -> String? {
        switch OneClickUnsubscribe.check(headers) {
        case .absent: return nil
        case .valid(let url): return url
        case .invalid(let problem): throw .badRequest("\(field): \(problem).")
        }
    }

    static let maximumRecipients = 50

    /// Test addresses whose local part makes SES refuse them, so plugins can meet every answer.
    enum Trigger { case rejected, throttled }

    var trigger: Trigger? {
        func hasLocalPart(_ address: String, _ local: String) -> Bool {
            let bytes = address.utf8
            return bytes.count > local.utf8.count && bytes.starts(with: local.utf8)
                && bytes[bytes.index(bytes.startIndex, offsetBy: local.utf8.count)] == UInt8(ascii: "@")
        }
        for address in recipients {
            if hasLocalPart(address, "rejected") { return .rejected }
            if hasLocalPart(address, "throttled") { return .throttled }
        }
        return nil
    }

    /// `Destination{ToAddresses,CcAddresses,BccAddresses}`, checked.
    static func destination(_ value: JSONValue?, field: String) throws(SESError) -> (to: [String], cc: [String], bcc: [String]) {
        guard let value, value != .null else { return ([], [], []) }
        guard case .object = value else { throw .badRequest("\(field) must be an object.") }
        func list(_ name: String) throws(SESError) -> [String] {
            guard let entries = value[name], entries != .null else { return [] }
            guard let array = entries.arrayValue else { throw .badRequest("\(field).\(name) must be a list of addresses.") }
            var out: [String] = []
            for entry in array {
                guard let text = entry.stringValue, let bare = EmailAddress.bare(text) else {
                    throw .badRequest("Illegal address in \(field).\(name): \(entry.stringValue ?? "(not a string)")")
                }
                out.append(bare)
            }
            return out
        }
        return (try list("ToAddresses"), try list("CcAddresses"), try list("BccAddresses"))
    }

    static func tags(_ value: JSONValue?, field: String) throws(SESError) -> [(name: String, value: String)] {
        guard let value, value != .null else { return [] }
        guard let list = value.arrayValue else { throw .badRequest("\(field) must be a list of {Name, Value}.") }
        var tags: [(String, String)] = []
        for tag in list {
            guard let name = tag["Name"]?.stringValue, let text = tag["Value"]?.stringValue,
                  TagText.isValid(name), TagText.isValid(text) else {
                throw .badRequest("\(field): each tag needs a Name and Value of ASCII letters, numbers, '_' or '-' (at most 256).")
            }
            tags.append((name, text))
        }
        return tags
    }

    static func from(_ value: JSONValue?) throws(SESError) -> String {
        guard let text = value?.stringValue else { throw .badRequest("FromEmailAddress is required.") }
        guard let bare = EmailAddress.bare(text) else { throw .badRequest("Illegal address in FromEmailAddress: \(text)") }
        return bare
    }

    /// Recipients named in a raw MIME message's To and Cc headers, for Raw content sent without Destination.
    static func mimeRecipients(_ base64: String) throws(SESError) -> [String] {
        guard let bytes = Encoding.unbase64(base64) else { throw .badRequest("Content.Raw.Data must be base64.") }
        var recipients: [String] = []
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.hasSuffix("\r") ? line.dropLast() : line[...]
            if trimmed.isEmpty { break }
            let lower = trimmed.lowercased()
            guard lower.hasPrefix("to:") || lower.hasPrefix("cc:") else { continue }
            for part in trimmed.dropFirst(3).split(separator: ",") {
                let candidate = part.trimmingCharacters(in: " \t")
                guard let bare = EmailAddress.bare(candidate) else { throw .badRequest("Illegal address in the raw message: \(candidate)") }
                recipients.append(bare)
            }
        }
        return recipients
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        return String(drop { characters.contains($0) }.reversed().drop { characters.contains($0) }.reversed())
    }
}
