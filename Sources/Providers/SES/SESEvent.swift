import ProviderModel

/// One SES event as SNS delivers it, in either format: event publishing
/// (`eventType`, through a configuration set) or identity notifications
/// (`notificationType`: Bounce, Complaint, Delivery). Both share the `mail`
/// object and the per-type objects (ses/latest/dg/event-publishing-retrieving-sns-contents.html).
struct SESEvent {
    let document: JSONValue
    let raw: String

    init(_ document: JSONValue, raw: String) {
        self.document = document
        self.raw = raw
    }

    var type: String { (document["eventType"] ?? document["notificationType"])?.stringValue ?? "" }
    var mail: JSONValue { document["mail"] ?? .null }
    var messageId: String { mail["messageId"]?.stringValue ?? "" }
    var destinations: [String] { (mail["destination"]?.arrayValue ?? []).compactMap(\.stringValue) }

    /// The event's own object: `bounce`, `deliveryDelay`, `failure` (Rendering Failure)…
    func object(_ name: String) -> JSONValue { document[name] ?? .null }

    /// The time the event is dated by: its own object's `timestamp`, or the `mail` object's when it has none.
    /// Only that one time is read, once, between 1970 and 9999 or `.malformed` naming it; a time in an
    /// object this event does not date by is none of its business, so an authentic notification is never
    /// refused for it.
    private func date(of name: String) throws(PluginFailure) -> Int64? {
        let own = object(name)
        if let stated = own["timestamp"], stated != .null {
            return try EventTimestamp.iso8601(member: "timestamp", of: own, field: "body.Message.\(name).timestamp")
        }
        return try EventTimestamp.iso8601(member: "timestamp", of: mail, field: "body.Message.mail.timestamp")
    }

    /// One normalised event per affected recipient; ids are the SNS message id, with `#n` when there are several.
    func deliveryEvents(eventId: String) throws(PluginFailure) -> [DeliveryEvent] {
        let drafts = try self.drafts()
        return drafts.enumerated().map { index, draft in
            var event = draft
            event.eventId = drafts.count > 1 ? "\(eventId)#\(index)" : eventId
            return event
        }
    }

    private func event(_ type: DeliveryEvent.EventType, _ recipient: String, at time: Int64?,
                       reason: String = "", code: String = "") -> DeliveryEvent {
        DeliveryEvent(type: type, timestampMs: time, eventId: "", providerMessageId: messageId,
                      recipient: recipient, reason: reason, code: code, raw: raw)
    }

    private func addresses(_ list: JSONValue?) -> [JSONValue] { list?.arrayValue ?? [] }

    private func drafts() throws(PluginFailure) -> [DeliveryEvent] {
        switch type {
        case "Send":
            let time = try date(of: "send")
            return destinations.map { event(.sent, $0, at: time) }
        case "Delivery":
            let delivery = object("delivery")
            let time = try date(of: "delivery")
            let recipients = (delivery["recipients"]?.arrayValue ?? []).compactMap(\.stringValue)
            return (recipients.isEmpty ? destinations : recipients).map {
                event(.delivered, $0, at: time, reason: delivery["smtpResponse"]?.stringValue ?? "")
            }
        case "Bounce":
            let bounce = object("bounce")
            let time = try date(of: "bounce")
            let bounceType = bounce["bounceType"]?.stringValue ?? "Undetermined"
            let subType = bounce["bounceSubType"]?.stringValue ?? ""
            return addresses(bounce["bouncedRecipients"]).map { recipient in
                var draft = event(.bounced, recipient["emailAddress"]?.stringValue ?? "", at: time,
                                  reason: recipient["diagnosticCode"]?.stringValue ?? "\(bounceType): \(subType)",
                                  code: recipient["status"]?.stringValue ?? "\(bounceType)/\(subType)")
                // Only Permanent bounces mean the address is gone; Transient and Undetermined may deliver later.
                draft.bounceClass = bounceType == "Permanent" ? .hard : .soft
                if recipient["diagnosticCode"] != nil { draft.reason = "\(bounceType): \(subType): " + draft.reason }
                return draft
            }
        case "Complaint":
            let complaint = object("complaint")
            let time = try date(of: "complaint")
            let feedback = complaint["complaintFeedbackType"]?.stringValue ?? ""
            let subType = complaint["complaintSubType"]?.stringValue ?? ""
            return addresses(complaint["complainedRecipients"]).map { recipient in
                var draft = event(.complained, recipient["emailAddress"]?.stringValue ?? "", at: time,
                                  reason: [feedback, subType].filter { !$0.isEmpty }.joined(separator: ": "))
                draft.userAgent = complaint["userAgent"]?.stringValue ?? ""
                return draft
            }
        case "Reject":
            let reject = object("reject")
            let time = try date(of: "reject")
            return destinations.map { event(.rejected, $0, at: time, reason: reject["reason"]?.stringValue ?? "") }
        case "Open":
            let open = object("open")
            let time = try date(of: "open")
            return destinations.map { recipient in
                var draft = event(.opened, recipient, at: time)
                draft.userAgent = open["userAgent"]?.stringValue ?? ""
                return draft
            }
        case "Click":
            let click = object("click")
            let time = try date(of: "click")
            return destinations.map { recipient in
                var draft = event(.clicked, recipient, at: time)
                draft.userAgent = click["userAgent"]?.stringValue ?? ""
                draft.url = click["link"]?.stringValue ?? ""
                return draft
            }
        case "Rendering Failure":
            let failure = object("failure")
            let time = try date(of: "failure")
            return destinations.map {
                event(.failed, $0, at: time, reason: failure["errorMessage"]?.stringValue ?? "rendering failed",
                      code: failure["templateName"]?.stringValue ?? "")
            }
        case "DeliveryDelay":
            let delay = object("deliveryDelay")
            let time = try date(of: "deliveryDelay")
            let delayType = delay["delayType"]?.stringValue ?? ""
            return addresses(delay["delayedRecipients"]).map { recipient in
                let diagnostic = recipient["diagnosticCode"]?.stringValue ?? ""
                return event(.deferred, recipient["emailAddress"]?.stringValue ?? "", at: time,
                             reason: [delayType, diagnostic].filter { !$0.isEmpty }.joined(separator: ": "),
                             code: recipient["status"]?.stringValue ?? "")
            }
        case "Subscription":
            let subscription = object("subscription")
            let time = try date(of: "subscription")
            let preferences = subscription["newTopicPreferences"] ?? .null
            let optedOut = (preferences["topicSubscriptionStatus"]?.arrayValue ?? []).filter {
                $0["subscriptionStatus"]?.stringValue == "OptOut"
            }.compactMap { $0["topicName"]?.stringValue }
            let all = preferences["unsubscribeAll"] == .bool(true)
            // An opt-in changes no delivery; it is reported as unknown rather than dropped.
            let type: DeliveryEvent.EventType = all || !optedOut.isEmpty ? .unsubscribed : .unknown
            let reason = all ? "unsubscribed from all topics" + contactList(subscription)
                : optedOut.isEmpty ? "subscription preferences changed" : "opted out of " + optedOut.joined(separator: ", ")
            return destinations.map { event(type, $0, at: time, reason: reason) }
        default:
            let time = try EventTimestamp.iso8601(member: "timestamp", of: mail, field: "body.Message.mail.timestamp")
            return (destinations.isEmpty ? [""] : destinations).map { event(.unknown, $0, at: time, reason: type) }
        }
    }

    private func contactList(_ subscription: JSONValue) -> String {
        subscription["contactList"]?.stringValue.map { " of \($0)" } ?? ""
    }
}
