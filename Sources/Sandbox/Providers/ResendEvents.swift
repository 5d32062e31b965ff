import ProviderModel

/// Resend's webhook events for one accepted email, signed the way Svix signs
/// them: the body stays the same across attempts, the `svix-timestamp` and
/// signature are made anew for each (resend.com/docs/webhooks).
struct ResendEvents: Sendable {
    let state: SandboxState
    let email: ResendEmail
    let emailId: String
    let createdAt: Int64
    let url: String

    func job(for step: TimedStep, acceptedAt: Int64) -> WebhookJob? {
        let eventTime = acceptedAt + step.dueOffsetMilliseconds
        let svixId = "msg_" + String(state.random.derivedUUID("resend:\(emailId):\(step.step)").filter { $0 != "-" })
        let body = self.body(step.step, eventTime: eventTime)
        let signer = state.resendSigner
        return WebhookJob(
            provider: .resend, url: url, eventId: svixId,
            build: { _, now in
                let timestamp = now / 1000
                return ([KeyValue("content-type", "application/json"), KeyValue("user-agent", "Svix-Webhooks/1.0"),
                         KeyValue("svix-id", svixId), KeyValue("svix-timestamp", "\(timestamp)"),
                         KeyValue("svix-signature", signer.sign(id: svixId, timestamp: timestamp, body: body))], body)
            },
            schedule: .resend(scale: state.configuration.webhooks.retryTimeScale),
            needsConfirmedSubscription: false)
    }

    private func body(_ step: LifecycleStep, eventTime: Int64) -> [UInt8] {
        let type: String
        switch step {
        case .sent: type = "email.sent"
        case .delivered: type = "email.delivered"
        case .delayed: type = "email.delivery_delayed"
        case .hardBounce, .softBounce: type = "email.bounced"
        case .complained: type = "email.complained"
        case .failed: type = "email.failed"
        case .opened: type = "email.opened"
        case .clicked: type = "email.clicked"
        }
        var json = JSONWriter(capacity: 512)
        json.beginObject()
        json.member("type", type)
        json.member("created_at", ISO8601.extendedUTC(milliseconds: eventTime))
        json.key("data")
        json.beginObject()
        json.member("email_id", emailId)
        json.member("created_at", ISO8601.extendedUTC(milliseconds: createdAt))
        json.member("from", email.from)
        json.member("to", strings: email.to)
        json.member("subject", email.subject)
        if !email.tags.isEmpty {
            json.key("tags")
            json.beginObject()
            for tag in email.tags { json.member(tag.name, tag.value) }
            json.endObject()
        }
        switch step {
        case .hardBounce:
            bounce(&json, type: "Permanent", subType: "General", message:
                "The recipient's email provider sent a hard bounce message, and it does not exist.", code: "smtp; 550 5.1.1 user unknown")
        case .softBounce:
            bounce(&json, type: "Transient", subType: "MailboxFull", message:
                "The recipient's inbox is full.", code: "smtp; 452 4.2.2 mailbox full")
        case .failed:
            json.key("failed")
            json.beginObject()
            json.member("reason", "reached_daily_quota")
            json.endObject()
        case .clicked:
            json.key("click")
            json.beginObject()
            json.member("ipAddress", "192.0.2.10")
            json.member("link", "https://example.com/sandbox-link")
            json.member("timestamp", ISO8601.extendedUTC(milliseconds: eventTime))
            json.member("userAgent", "Mozilla/5.0 (BatchSender sandbox)")
            json.endObject()
        default:
            break
        }
        json.endObject()
        json.endObject()
        return json.bytes
    }

    private func bounce(_ json: inout JSONWriter, type: String, subType: String, message: String, code: String) {
        json.key("bounce")
        json.beginObject()
        json.member("type", type)
        json.member("subType", subType)
        json.member("message", message)
        json.member("diagnosticCode", strings: [code])
        json.endObject()
    }
}
