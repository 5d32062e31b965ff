import BatchSenderABI

extension DeliveryEvent.EventType {
    static let codes: [(Int32, Self)] = [
        (BSP_EVENT_UNKNOWN, .unknown), (BSP_EVENT_QUEUED, .queued), (BSP_EVENT_SENT, .sent),
        (BSP_EVENT_DELIVERED, .delivered), (BSP_EVENT_DEFERRED, .deferred), (BSP_EVENT_BOUNCED, .bounced),
        (BSP_EVENT_COMPLAINED, .complained), (BSP_EVENT_REJECTED, .rejected), (BSP_EVENT_FAILED, .failed),
        (BSP_EVENT_OPENED, .opened), (BSP_EVENT_CLICKED, .clicked), (BSP_EVENT_UNSUBSCRIBED, .unsubscribed),
        (BSP_EVENT_SUBSCRIPTION_CONFIRMATION, .subscriptionConfirmation),
    ]

    /// A code this host does not know reads as `unknown`, as event.h allows new types.
    public init(code: Int32) {
        self = Self.codes.first { $0.0 == code }?.1 ?? .unknown
    }

    public var code: Int32 { Self.codes.first { $0.1 == self }?.0 ?? BSP_EVENT_UNKNOWN }
}

extension DeliveryEvent {
    /// A `timestamp_ms` outside 1970..9999 (`EventTimestamp.range`) reads as "not said", as 0 does: the
    /// host then dates the event by its arrival, and a plugin's INT64_MAX cannot reach the database.
    public init(reading pointer: UnsafePointer<bsp_event>) {
        let c = bsp_event.read(from: pointer)
        let type = EventType(code: c.type)
        let bounce: BounceClass? = switch c.bounce_class {
        case BSP_BOUNCE_HARD: .hard
        case BSP_BOUNCE_SOFT: .soft
        default: nil
        }
        self.init(type: type, bounceClass: type == .bounced ? bounce : nil,
                  timestampMs: c.timestamp_ms > 0 && EventTimestamp.range.contains(c.timestamp_ms) ? c.timestamp_ms : nil, eventId: c.event_id.string,
                  providerMessageId: c.provider_message_id.string, recipient: c.recipient.string,
                  reason: c.reason.string, code: c.code.string, url: c.url.string, userAgent: c.user_agent.string,
                  raw: c.raw.string)
    }

    public func cEvent(in arena: CArena) -> UnsafePointer<bsp_event> {
        var c = bsp_event()
        c.struct_size = bsp_event.currentSize
        c.type = type.code
        c.bounce_class = switch bounceClass {
        case .hard: BSP_BOUNCE_HARD
        case .soft: BSP_BOUNCE_SOFT
        case nil: BSP_BOUNCE_NONE
        }
        c.timestamp_ms = timestampMs ?? 0
        c.event_id = arena.str(eventId)
        c.provider_message_id = arena.str(providerMessageId)
        c.recipient = arena.str(recipient)
        c.reason = arena.str(reason)
        c.code = arena.str(code)
        c.url = arena.str(url)
        c.user_agent = arena.str(userAgent)
        c.raw = arena.str(raw)
        return UnsafePointer(arena.store(c))
    }
}
