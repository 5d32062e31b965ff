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

    /// The objects whose `timestamp` an event may be dated by.
    static let datedObjects = ["mail", "send", "delivery", "bounce", "complaint", "reject", "open", "click", "failure",
                               "deliveryDelay", "subscription"]

    /// Every timestamp the events could carry is a time between 1970 and 9999, or `.malformed` names it:
    /// checked once here so that `timestamp(_:)` below can stay total.
    func checkTimestamps() throws(PluginFailure) {
        for name in Self.datedObjects {
            guard let object = document[name], object != .null else { continue }
            _ = try EventTimestamp.iso8601(member: "timestamp", of: object, field: "body.Message.\(name).timestamp")
        }
    }

    func timestamp(_ object: JSONValue) -> Int64? {
        (object["timestamp"]?.stringValue ?? mail["timestamp"]?.stringValue).flatMap(ISO8601.milliseconds)
    }

    /// One normalised event per affected recipient; ids are the SNS message id, with `#n` when there are several.
    func deliveryEvents(eventId: String) -> [DeliveryEvent] {
        let drafts = self.drafts()
        return drafts.enumerated().map { index, draft in
            var event = draft
            event.eventId = drafts.count > 1 ? "\(eventId)#\(index)" : eventId
            return event
        }
    }

    private func event(_ type: DeliveryEvent.EventType, _ recipient: String, at object: JSONValue,
                       reason: String = "", code: String = "") -> DeliveryEvent {
        DeliveryEvent(type: type, timestampMs: timestamp(object), eventId: "", providerMessageId: messageId,
                      recipient: recipient, reason: reason, code: code, raw: raw)
    }

    private func addresses(_ list: JSONValue?) -> [JSONValue] { list?.arrayValue ?? [] }

    private func drafts() -> [DeliveryEvent] {
        switch type {
        case "Send":
            return destinations.map { event(.sent, $0, at: object("send")) }
        case "Delivery":
            let delivery = object("delivery")
            let recipients = (delivery["recipients"]?.arrayValue ?? []).compactMap(\.stringValue)
            return (recipients.isEmpty ? destinations : recipients).map {
                event(.delivered, $0, at: delivery, reason: delivery["smtpResponse"]?.stringValue ?? "")
            }
        case "Bounce":
            let bounce = object("bounce")
            let bounceType = bounce["bounceType"]?.stringValue ?? "Undetermined"
            let subType = bounce["bounceSubType"]?.stringValue ?? ""
            return addresses(bounce["bouncedRecipients"]).map { recipient in
                var draft = event(.bounced, recipient["emailAddress"]?.stringValue ?? "", at: bounce,
                                  reason: recipient["diagnosticCode"]?.stringValue ?? "\(bounceType): \(subType)",
                                  code: recipient["status"]?.stringValue ?? "\(bounceType)/\(subType)")
                // Only Permanent bounces mean the address is gone; Transient and Undetermined may deliver later.
                draft.bounceClass = bounceType == "Permanent" ? .hard : .soft
                if recipient["diagnosticCode"] != nil { draft.reason = "\(bounceType): \(subType): " + draft.reason }
                return draft
            }
        case "Complaint":
            let complaint = object("complaint")
            let feedback = complaint["complaintFeedbackType"]?.stringValue ?? ""
            let subType = complaint["complaintSubType"]?.stringValue ?? ""
            return addresses(complaint["complainedRecipients"]).map { recipient in
                var draft = event(.complained, recipient["emailAddress"]?.stringValue ?? "", at: complaint,
                                  reason: [feedback, subType].filter { !$0.isEmpty }.joined(separator: ": "))
                draft.userAgent = complaint["userAgent"]?.stringValue ?? ""
                return draft
            }
        case "Reject":
            let reject = object("reject")
            return destinations.map { event(.rejected, $0, at: reject, reason: reject["reason"]?.stringValue ?? "") }
        case "Open":
            let open = object("open")
            return destinations.map { recipient in
                var draft = event(.opened, recipient, at: open)
                draft.userAgent = open["userAgent"]?.stringValue ?? ""
                return draft
            }
        case "Click":
            let click = object("click")
            return destinations.map { recipient in
                var draft = event(.clicked, recipient, at: click)
                draft.userAgent = click["userAgent"]?.stringValue ?? ""
                draft.url = click["link"]?.stringValue ?? ""
                return draft
            }
        case "Rendering Failure":
            let failure = object("failure")
            return destinations.map {
                event(.failed, $0, at: failure, reason: failure["errorMessage"]?.stringValue ?? "rendering failed",
                      code: failure["templateName"]?.stringValue ?? "")
            }
        case "DeliveryDelay":
            let delay = object("deliveryDelay")
            let delayType = delay["delayType"]?.stringValue ?? ""
            return addresses(delay["delayedRecipients"]).map { recipient in
                let diagnostic = recipient["diagnosticCode"]?.stringValue ?? ""
                return event(.deferred, recipient["emailAddress"]?.stringValue ?? "", at: delay,
                             reason: [delayType, diagnostic].filter { !$0.isEmpty }.joined(separator: ": "),
                             code: recipient["status"]?.stringValue ?? "")
            }
        case "Subscription":
            let subscription = object("subscription")
            let preferences = subscription["newTopicPreferences"] ?? .null
            let optedOut = (preferences["topicSubscriptionStatus"]?.arrayValue ?? []).filter {
                $0["subscriptionStatus"]?.stringValue == "OptOut"
            }.compactMap { $0["topicName"]?.stringValue }
            let all = preferences["unsubscribeAll"] == .bool(true)
            // An opt-in changes no delivery; it is reported as unknown rather than dropped.
            let type: DeliveryEvent.EventType = all || !optedOut.isEmpty ? .unsubscribed : .unknown
            let reason = all ? "unsubscribed from all topics" + contactList(subscription)
                : optedOut.isEmpty ? "subscription preferences changed" : "opted out of " + optedOut.joined(separator: ", ")
            return destinations.map { event(type, $0, at: subscription, reason: reason) }
        default:
            return (destinations.isEmpty ? [""] : destinations).map { event(.unknown, $0, at: .null, reason: type) }
        }
    }

    private func contactList(_ subscription: JSONValue) -> String {
        subscription["contactList"]?.stringValue.map { " of \($0)" } ?? ""
    }
}
