import BatchSenderABI

extension OutboundMessage {
    /// Reads a message the host passed; fields beyond its struct_size are empty.
    public init?(reading pointer: UnsafePointer<bsp_message>?) {
        guard let pointer else { return nil }
        let c = bsp_message.read(from: pointer)
        let channel: Channel
        switch c.channel {
        case BSP_CHANNEL_EMAIL: channel = .email
        case BSP_CHANNEL_SMS: channel = .sms
        case BSP_CHANNEL_WEBHOOK: channel = .webhook
        default: return nil
        }
        self.init(
            id: c.id.string, channel: channel, idempotencyKey: c.idempotency_key.string, from: c.from.string,
            to: c.to.strings, cc: c.cc.strings, bcc: c.bcc.strings, replyTo: c.reply_to.strings,
            subject: c.subject.string, html: c.html.string, text: c.text.string,
            headers: c.headers.pairs, tags: c.tags.pairs, metadata: c.metadata.pairs,
            messagingProfile: c.messaging_profile.string, payload: c.payload.string
        )
    }

    /// A C copy of this message, living as long as `arena`.
    public func cMessage(in arena: CArena) -> UnsafePointer<bsp_message> {
        var c = bsp_message()
        c.struct_size = bsp_message.currentSize
        c.channel = channel.bit
        c.id = arena.str(id)
        c.idempotency_key = arena.str(idempotencyKey)
        c.from = arena.str(from)
        c.to = arena.list(to)
        c.cc = arena.list(cc)
        c.bcc = arena.list(bcc)
        c.reply_to = arena.list(replyTo)
        c.subject = arena.str(subject)
        c.html = arena.str(html)
        c.text = arena.str(text)
        c.headers = arena.pairs(headers)
        c.tags = arena.pairs(tags)
        c.metadata = arena.pairs(metadata)
        c.messaging_profile = arena.str(messagingProfile)
        c.payload = arena.str(payload)
        return UnsafePointer(arena.store(c))
    }
}

extension Array where Element == OutboundMessage {
    /// The `const bsp_message *const *` array the sender interface takes.
    public func cMessageArray(in arena: CArena) -> UnsafePointer<UnsafePointer<bsp_message>?> {
        let array = arena.allocate(UnsafePointer<bsp_message>?.self, count: count)
        withUnsafeBufferPointer { messages in
            for index in messages.indices { (array + index).initialize(to: messages[index].cMessage(in: arena)) }
        }
        return UnsafePointer(array)
    }
}
