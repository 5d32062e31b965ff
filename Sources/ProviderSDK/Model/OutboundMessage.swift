/// The normalised message a plugin is asked to send (message.h). Templates are
/// already rendered: every field is final text. JSON form: docs/schemas.md.
public struct OutboundMessage: Sendable, Equatable {
    public var id: String
    public var channel: Channel
    public var idempotencyKey: String
    public var from: String
    public var to: [String]
    public var cc: [String]
    public var bcc: [String]
    public var replyTo: [String]
    public var subject: String
    public var html: String
    public var text: String
    public var headers: [KeyValue]
    public var tags: [KeyValue]
    public var metadata: [KeyValue]
    public var messagingProfile: String
    /// Webhook channel: the JSON document to deliver, as text. Email: optionally
    /// `{"template": NAME, "template_data": {…}}`, a provider-side template (message.h).
    public var payload: String
    /// Email: files every recipient gets (ABI 1.2); see `Attachment` for the bounds the host keeps.
    public var attachments: [Attachment]

    public init(
        id: String, channel: Channel, idempotencyKey: String = "", from: String = "", to: [String] = [],
        cc: [String] = [], bcc: [String] = [], replyTo: [String] = [], subject: String = "",
        html: String = "", text: String = "", headers: [KeyValue] = [], tags: [KeyValue] = [],
        metadata: [KeyValue] = [], messagingProfile: String = "", payload: String = "",
        attachments: [Attachment] = []
    ) {
        self.id = id
        self.channel = channel
        self.idempotencyKey = idempotencyKey.isEmpty ? id : idempotencyKey
        self.from = from
        self.to = to
        self.cc = cc
        self.bcc = bcc
        self.replyTo = replyTo
        self.subject = subject
        self.html = html
        self.text = text
        self.headers = headers
        self.tags = tags
        self.metadata = metadata
        self.messagingProfile = messagingProfile
        self.payload = payload
        self.attachments = attachments
    }
}

extension OutboundMessage: Codable {
    enum CodingKeys: String, CodingKey {
        case id, channel, from, to, cc, bcc, subject, html, text, headers, tags, metadata, payload, attachments
        case idempotencyKey = "idempotency_key"
        case replyTo = "reply_to"
        case messagingProfile = "messaging_profile"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let id = try c.decode(String.self, forKey: .id)
        guard !id.isEmpty else {
            throw DecodingError.dataCorruptedError(forKey: .id, in: c, debugDescription: "must not be empty")
        }
        func addresses(_ key: CodingKeys) throws -> [String] {
            guard c.contains(key), try !c.decodeNil(forKey: key) else { return [] }
            if let one = try? c.decode(String.self, forKey: key) { return [one] }
            do { return try c.decode([String].self, forKey: key) } catch {
                throw DecodingError.typeMismatch(
                    [String].self,
                    .init(codingPath: c.codingPath + [key], debugDescription: "expected a string or an array of strings"))
            }
        }
        func pairs(_ key: CodingKeys) throws -> [KeyValue] {
            guard let object = try c.decodeIfPresent([String: String].self, forKey: key) else { return [] }
            return [KeyValue](sortedFrom: object)
        }
        var payload = ""
        if c.contains(.payload) {
            if let text = try? c.decode(String.self, forKey: .payload) { payload = text }
            else { payload = try c.decode(JSONValue.self, forKey: .payload).compactText }
        }
        var attachments: [Attachment] = []
        if c.contains(.attachments), try !c.decodeNil(forKey: .attachments) {
            for (index, file) in try c.decode([AttachmentJSON].self, forKey: .attachments).enumerated() {
                guard let content = Base64.decode(file.content) else {
                    throw DecodingError.dataCorruptedError(forKey: .attachments, in: c,
                                                           debugDescription: "attachments[\(index)].content must be standard base64")
                }
                attachments.append(Attachment(filename: file.filename, contentType: file.contentType ?? "", content: AttachmentBytes(content)))
            }
        }
        self.init(
            id: id,
            channel: try c.decode(Channel.self, forKey: .channel),
            idempotencyKey: try c.decodeIfPresent(String.self, forKey: .idempotencyKey) ?? "",
            from: try c.decodeIfPresent(String.self, forKey: .from) ?? "",
            to: try addresses(.to), cc: try addresses(.cc), bcc: try addresses(.bcc), replyTo: try addresses(.replyTo),
            subject: try c.decodeIfPresent(String.self, forKey: .subject) ?? "",
            html: try c.decodeIfPresent(String.self, forKey: .html) ?? "",
            text: try c.decodeIfPresent(String.self, forKey: .text) ?? "",
            headers: try pairs(.headers), tags: try pairs(.tags), metadata: try pairs(.metadata),
            messagingProfile: try c.decodeIfPresent(String.self, forKey: .messagingProfile) ?? "",
            payload: payload, attachments: attachments
        )
    }

    /// An attachment in the JSON form: its bytes as standard base64.
    struct AttachmentJSON: Codable {
        var filename: String
        var contentType: String?
        var content: String
        enum CodingKeys: String, CodingKey {
            case filename, content
            case contentType = "content_type"
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(channel, forKey: .channel)
        try c.encode(idempotencyKey, forKey: .idempotencyKey)
        func put(_ value: String, _ key: CodingKeys) throws { if !value.isEmpty { try c.encode(value, forKey: key) } }
        func put(_ value: [String], _ key: CodingKeys) throws { if !value.isEmpty { try c.encode(value, forKey: key) } }
        func put(_ value: [KeyValue], _ key: CodingKeys) throws {
            if !value.isEmpty { try c.encode(value.dictionary, forKey: key) }
        }
        try put(from, .from); try put(to, .to); try put(cc, .cc); try put(bcc, .bcc); try put(replyTo, .replyTo)
        try put(subject, .subject); try put(html, .html); try put(text, .text)
        try put(headers, .headers); try put(tags, .tags); try put(metadata, .metadata)
        try put(messagingProfile, .messagingProfile); try put(payload, .payload)
        if !attachments.isEmpty {
            try c.encode(attachments.map { AttachmentJSON(filename: $0.filename, contentType: $0.contentType.isEmpty ? nil : $0.contentType,
                                                          content: Base64.encode($0.content.bytes)) }, forKey: .attachments)
        }
    }
}
