import ProviderModel

/// SES's events for one accepted message, delivered as SNS notifications.
/// With a configuration set SES publishes every event type (`eventType`);
/// without one only identity notifications for Bounce, Complaint and Delivery
/// (`notificationType`) go out — as on AWS.
struct SESEvents: Sendable {
    let state: SandboxState
    let email: SESEmail
    let messageId: String
    let sentAt: Int64
    let url: String

    static let accountId = "123456789012"

    func job(for step: TimedStep, acceptedAt: Int64) -> WebhookJob? {
        let eventTime = acceptedAt + step.dueOffsetMilliseconds
        guard let message = eventJSON(step.step, eventTime: eventTime) else { return nil }
        let snsMessageId = state.random.derivedUUID("ses:\(messageId):\(step.step)")
        let envelope = state.sns
        return WebhookJob(
            provider: .ses, url: url, eventId: snsMessageId,
            // SNS sends the same signed document on every attempt.
            build: { _, _ in envelope.notification(messageId: snsMessageId, message: message, timestampMilliseconds: eventTime) },
            schedule: .sns(scale: state.configuration.webhooks.retryTimeScale),
            needsConfirmedSubscription: true)
    }

    private func eventJSON(_ step: LifecycleStep, eventTime: Int64) -> String? {
        let publishing = email.configurationSet != nil
        let type: String
        switch step {
        case .sent: type = "Send"
        case .delivered: type = "Delivery"
        case .delayed: type = "DeliveryDelay"
        case .hardBounce, .softBounce: type = "Bounce"
        case .complained: type = "Complaint"
        case .failed: type = "Reject"
        case .opened: type = "Open"
        case .clicked: type = "Click"
        }
        if !publishing, !["Delivery", "Bounce", "Complaint"].contains(type) { return nil }
        let time = ISO8601.extendedUTC(milliseconds: eventTime)
        var json = JSONWriter(capacity: 1536)
        json.beginObject()
        json.member(publishing ? "eventType" : "notificationType", type)
        writeMail(&json)
        switch step {
        case .sent:
            json.key("send")
            json.beginObject()
            json.endObject()
        case .delivered:
            json.key("delivery")
            json.beginObject()
            json.member("timestamp", time)
            json.member("processingTimeMillis", number: max(0, eventTime - sentAt))
            json.member("recipients", strings: email.recipients)
            json.member("smtpResponse", "250 2.6.0 Message received")
            json.member("reportingMTA", "a8-70.smtp-out.amazonses.com")
            json.endObject()
        case .delayed:
            json.key("deliveryDelay")
            json.beginObject()
            json.member("timestamp", time)
            json.member("delayType", "MailboxFull")
            json.member("expirationTime", ISO8601.extendedUTC(milliseconds: eventTime + 24 * 3600 * 1000))
            json.key("delayedRecipients")
            json.beginArray()
            for address in email.recipients {
                json.beginObject()
                json.member("emailAddress", address)
                json.member("status", "4.2.2")
                json.member("diagnosticCode", "smtp; 452 4.2.2 Mailbox full")
                json.endObject()
            }
            json.endArray()
            json.endObject()
        case .hardBounce, .softBounce:
            let hard = step == .hardBounce
            json.key("bounce")
            json.beginObject()
            json.member("bounceType", hard ? "Permanent" : "Transient")
            json.member("bounceSubType", hard ? "General" : "MailboxFull")
            json.key("bouncedRecipients")
            json.beginArray()
            for address in email.recipients {
                json.beginObject()
                json.member("emailAddress", address)
                json.member("action", "failed")
                json.member("status", hard ? "5.1.1" : "4.2.2")
                json.member("diagnosticCode", hard ? "smtp; 550 5.1.1 user unknown" : "smtp; 452 4.2.2 mailbox full")
                json.endObject()
            }
            json.endArray()
            json.member("timestamp", time)
            json.member("feedbackId", state.random.derivedUUID("ses-feedback:\(messageId)") + "-000000")
            json.member("reportingMTA", "dsn; e226-55.smtp-out.\(email.region).amazonses.com")
            json.endObject()
        case .complained:
            json.key("complaint")
            json.beginObject()
            json.key("complainedRecipients")
            json.beginArray()
            for address in email.recipients {
                json.beginObject()
                json.member("emailAddress", address)
                json.endObject()
            }
            json.endArray()
            json.member("timestamp", time)
            json.member("feedbackId", state.random.derivedUUID("ses-feedback:\(messageId)") + "-000000")
            json.member("complaintFeedbackType", "abuse")
            json.member("userAgent", "Mozilla/5.0 (BatchSender sandbox)")
            json.member("arrivalDate", time)
            json.endObject()
        case .failed:
            json.key("reject")
            json.beginObject()
            json.member("reason", "Bad content")
            json.endObject()
        case .opened, .clicked:
            json.key(step == .opened ? "open" : "click")
            json.beginObject()
            json.member("ipAddress", "192.0.2.10")
            json.member("timestamp", time)
            json.member("userAgent", "Mozilla/5.0 (BatchSender sandbox)")
            if step == .clicked {
                json.member("link", "https://example.com/sandbox-link")
                json.key("linkTags")
                json.beginObject()
                json.endObject()
            }
            json.endObject()
        }
        json.endObject()
        return String(decoding: json.bytes, as: UTF8.self)
    }

    private func writeMail(_ json: inout JSONWriter) {
        let domain = email.from.split(separator: "@").last.map(String.init) ?? ""
        json.key("mail")
        json.beginObject()
        json.member("timestamp", ISO8601.extendedUTC(milliseconds: sentAt))
        json.member("source", email.from)
        json.member("sourceArn", "arn:aws:ses:\(email.region):\(Self.accountId):identity/\(domain)")
        json.member("sendingAccountId", Self.accountId)
        json.member("messageId", messageId)
        json.member("destination", strings: email.recipients)
        json.key("headersTruncated")
        json.bool(false)
        json.key("headers")
        json.beginArray()
        json.endArray()
        json.key("commonHeaders")
        json.beginObject()
        json.member("from", strings: [email.from])
        json.member("to", strings: email.to)
        json.member("messageId", messageId)
        json.member("subject", email.subject)
        json.endObject()
        if let configurationSet = email.configurationSet {
            json.key("tags")
            json.beginObject()
            json.member("ses:configuration-set", strings: [configurationSet])
            json.member("ses:from-domain", strings: [domain])
            json.member("ses:caller-identity", strings: ["batchsender-sandbox"])
            for tag in email.tags { json.member(tag.name, strings: [tag.value]) }
            json.endObject()
        }
        json.endObject()
    }
}
