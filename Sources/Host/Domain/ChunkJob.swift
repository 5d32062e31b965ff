import HostCore
import ProviderModel

/// One queue message carrying the recipients of one batch that one provider
/// request can take (the plugin's `max_batch`). Fields every recipient shares
/// travel once in `common`; a recipient carries only what its variables changed.
public struct ChunkJob: Sendable, Equatable {
    public var batchID: String
    public var userID: String
    public var sendConfigID: String
    /// The message every recipient gets, before its own fields; `to` is empty.
    public var common: OutboundMessage
    public var recipients: [Recipient]
    /// How many times these recipients were re-driven from the dead letters (0 for a job of the expansion): what
    /// tells a later dead letter of the same recipients from an earlier one (`DeadLetter`'s message id).
    public var redriveRound = 0
    /// Whether each recipient's email carries one-click unsubscribe headers (`UnsubscribeLinks`): every bulk
    /// email does; a single message unless its request opted out.
    public var listUnsubscribe = false
    /// How many stored files each recipient's email carries: the sender reads them by the batch's id (a file is
    /// megabytes; a queue message is at most one).
    public var attachmentCount = 0
    /// Whether the job says how many (`a`): a job written by a version before attachments does not, and its
    /// sender reads the batch's files to find out rather than send an email without them.
    public var attachmentCountKnown = true

    /// Whether the sender must read the batch's files before sending: it has some, or may have.
    public var mayCarryFiles: Bool { common.channel == .email && (attachmentCount > 0 || !attachmentCountKnown) }

    public struct Recipient: Sendable, Equatable {
        public var position: Int
        public var address: String
        /// Rendered fields that differ from `common` (subject, html, text, payload).
        public var subject: String?
        public var html: String?
        public var text: String?
        public var payload: String?

        public init(position: Int, address: String, subject: String? = nil, html: String? = nil, text: String? = nil,
                    payload: String? = nil) {
            self.position = position
            self.address = address
            self.subject = subject
            self.html = html
            self.text = text
            self.payload = payload
        }
    }

    public init(batchID: String, userID: String, sendConfigID: String, common: OutboundMessage, recipients: [Recipient]) {
        self.batchID = batchID
        self.userID = userID
        self.sendConfigID = sendConfigID
        self.common = common
        self.recipients = recipients
    }

    /// `Nats-Msg-Id` of a job of one message (the priority queue). Bulk chunks are named by the processor, after
    /// the window of rows they come from.
    public var messageID: String { "\(batchID):\(recipients.first?.position ?? 0)" }

    /// The idempotency key a provider receives: the same for a recipient on every attempt and after any restart.
    public static func idempotencyKey(batchID: String, position: Int) -> String { "\(batchID)-\(position)" }

    /// The message for one recipient, ready for the plugin, with its unsubscribe headers when the job asks for them,
    /// `links` are configured, and the payload has neither header of its own (a sender's own list management wins).
    public func message(for recipient: Recipient, unsubscribe links: UnsubscribeLinks.Signer? = nil,
                        attachments: [Attachment] = []) -> OutboundMessage {
        var message = common
        message.attachments = attachments
        let key = Self.idempotencyKey(batchID: batchID, position: recipient.position)
        message.id = key
        message.idempotencyKey = key
        message.to = [recipient.address]
        if let subject = recipient.subject { message.subject = subject }
        if let html = recipient.html { message.html = html }
        if let text = recipient.text { message.text = text }
        if let payload = recipient.payload { message.payload = payload }
        if listUnsubscribe, common.channel == .email, let links, !common.headers.contains(where: UnsubscribeLinks.isOwnHeader) {
            message.headers += links.headers(address: recipient.address)
        }
        return message
    }

    public func encoded() -> [UInt8] {
        var writer = JSONWriter(capacity: 512 + recipients.count * 64)
        writer.beginObject()
        writer.member("b", batchID)
        writer.member("u", userID)
        writer.member("c", sendConfigID)
        if redriveRound > 0 { writer.member("g", number: Int64(redriveRound)) }
        if listUnsubscribe { writer.member("l", number: 1) }
        // Always said for email, 0 included: a job without it is an older version's (`attachmentCountKnown`).
        if common.channel == .email && attachmentCountKnown { writer.member("a", number: Int64(attachmentCount)) }
        writer.key("m")
        writer.beginObject()
        writer.member("channel", common.channel.rawValue)
        for (name, value) in [("from", common.from), ("subject", common.subject), ("html", common.html), ("text", common.text),
                              ("payload", common.payload), ("messaging_profile", common.messagingProfile)] where !value.isEmpty {
            writer.member(name, value)
        }
        if !common.replyTo.isEmpty { writer.member("reply_to", strings: common.replyTo) }
        for (name, pairs) in [("headers", common.headers), ("tags", common.tags), ("metadata", common.metadata)] where !pairs.isEmpty {
            writer.key(name)
            writer.beginObject()
            for pair in pairs { writer.member(pair.name, pair.value) }
            writer.endObject()
        }
        writer.endObject()
        writer.key("r")
        writer.beginArray()
        for recipient in recipients {
            writer.beginArray()
            writer.number(Int64(recipient.position))
            writer.string(recipient.address)
            if recipient.subject != nil || recipient.html != nil || recipient.text != nil || recipient.payload != nil {
                writer.beginObject()
                if let value = recipient.subject { writer.member("subject", value) }
                if let value = recipient.html { writer.member("html", value) }
                if let value = recipient.text { writer.member("text", value) }
                if let value = recipient.payload { writer.member("payload", value) }
                writer.endObject()
            }
            writer.endArray()
        }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }

    public init(decoding bytes: [UInt8]) throws(ChunkJobError) {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch { throw ChunkJobError("not JSON: \(error)") }
        guard let batchID = value["b"]?.stringValue, let userID = value["u"]?.stringValue, let configID = value["c"]?.stringValue,
              case .object(let m)? = value["m"], let channelName = m["channel"]?.stringValue,
              let channel = Channel(rawValue: channelName), let rows = value["r"]?.arrayValue else {
            throw ChunkJobError("a chunk job needs b, u, c, m.channel and r")
        }
        func text(_ name: String) -> String { m[name]?.stringValue ?? "" }
        func pairs(_ name: String) -> [KeyValue] {
            guard case .object(let object)? = m[name] else { return [] }
            return [KeyValue](sortedFrom: object.compactMapValues(\.stringValue))
        }
        let common = OutboundMessage(id: "-", channel: channel, from: text("from"), replyTo: m["reply_to"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                                     subject: text("subject"), html: text("html"), text: text("text"), headers: pairs("headers"),
                                     tags: pairs("tags"), metadata: pairs("metadata"), messagingProfile: text("messaging_profile"),
                                     payload: text("payload"))
        var recipients: [Recipient] = []
        recipients.reserveCapacity(rows.count)
        for row in rows {
            guard let items = row.arrayValue, items.count >= 2, case .number(let number) = items[0], let position = Int(exactly: number),
                  let address = items[1].stringValue else { throw ChunkJobError("a recipient is [position, address, {fields}?]") }
            var recipient = Recipient(position: position, address: address)
            if items.count > 2, case .object(let fields) = items[2] {
                recipient.subject = fields["subject"]?.stringValue
                recipient.html = fields["html"]?.stringValue
                recipient.text = fields["text"]?.stringValue
                recipient.payload = fields["payload"]?.stringValue
            }
            recipients.append(recipient)
        }
        guard !recipients.isEmpty else { throw ChunkJobError("a chunk job has at least one recipient") }
        self.init(batchID: batchID, userID: userID, sendConfigID: configID, common: common, recipients: recipients)
        if case .number(let round)? = value["g"], let round = Int(exactly: round), round > 0 { redriveRound = round }
        listUnsubscribe = value["l"] == .number(1)
        switch value["a"] {
        case nil:
            attachmentCountKnown = false
        case .number(let count)?:
            guard let count = Int(exactly: count), (0...Attachment.maxCount).contains(count) else {
                throw ChunkJobError("a is the number of attachments, 0 to \(Attachment.maxCount)")
            }
            attachmentCount = count
        default:
            throw ChunkJobError("a is the number of attachments, 0 to \(Attachment.maxCount)")
        }
    }
}

public struct ChunkJobError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
