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
            messagingProfile: c.messaging_profile.string, payload: c.payload.string,
            attachments: c.attachments.attachments
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
        c.attachments = arena.attachments(attachments)
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

extension bsp_attachment_list {
    /// The files of a message a host passed, copied (a plugin keeps nothing of the host's past the call).
    public var attachments: [Attachment] {
        guard count > 0, let items else { return [] }
        return UnsafeBufferPointer(start: items, count: count).map {
            Attachment(filename: $0.filename.string, contentType: $0.content_type.string,
                       content: AttachmentBytes(copying: $0.content.ptr.map(UnsafeRawPointer.init), count: $0.content.len))
        }
    }
}

extension CArena {
    /// A C view of `attachments` whose bytes are the shared `AttachmentBytes` themselves, kept alive with the arena.
    public func attachments(_ attachments: [Attachment]) -> bsp_attachment_list {
        guard !attachments.isEmpty else { return bsp_attachment_list(items: nil, count: 0) }
        let items = allocate(bsp_attachment.self, count: attachments.count)
        for (index, file) in attachments.enumerated() {
            keep(file.content)
            let bytes = file.content.bytes
            (items + index).initialize(to: bsp_attachment(
                filename: str(file.filename), content_type: str(file.contentType),
                content: bsp_bytes(ptr: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), len: bytes.count)))
        }
        return bsp_attachment_list(items: UnsafePointer(items), count: attachments.count)
    }
}
