import HostCore
import Hummingbird
import ProviderCrypto
import ProviderModel

/// The sandbox's own endpoints: statistics, reset, the keys receivers need,
/// and SNS's certificate and subscription endpoints.
struct ControlAPI: Sendable {
    let state: SandboxState

    func register(on router: Router<SandboxContext>) {
        router.get("/health") { _, _ in Reply.text(200, "ok").response }
        router.get("/sandbox/stats") { _, _ in
            Reply(status: 200, headers: [("content-type", "application/json")], body: state.stats.json { json in
                json.member("webhooks_pending", number: Int64(state.dispatcher.pending))
                json.member("ses_subscription", state.subscription.isConfirmed ? "confirmed" : "pending")
                json.member("seed", "\(state.random.seedValue)")
            }).response
        }
        router.post("/sandbox/reset") { _, _ in
            state.reset()
            return Reply.json(200) { json in
                json.beginObject()
                json.member("reset", "ok")
                json.endObject()
            }.response
        }
        router.get("/sandbox/keys") { _, _ in keys().response }
        router.get("/sandbox/fates") { request, _ in fates(request.uri.queryParameters.get("provider") ?? "").response }
        router.get("/sandbox/arrivals") { request, _ in arrivals(request.uri.queryParameters.get("provider") ?? "").response }
        router.get("/sandbox/unsubscribe-links") { request, _ in unsubscribeLinks(request.uri.queryParameters.get("provider") ?? "").response }
        router.post("/sandbox/outage") { request, _ in
            let query = request.uri.queryParameters
            return outage(query.get("provider") ?? "", seconds: query.get("seconds") ?? "", accepting: query.get("accepting") ?? "false").response
        }
        router.post("/sandbox/webhooks/hold") { request, _ in holdWebhooks(seconds: request.uri.queryParameters.get("seconds") ?? "").response }
        router.get("/sandbox/attachments") { request, _ in attachments(request.uri.queryParameters.get("provider") ?? "").response }
        router.get("/sandbox/reached") { request, _ in reached(request.uri.queryParameters.get("provider") ?? "").response }
        router.post("/sandbox/ses/subscribe") { _, _ in
            sendSubscriptionConfirmation()
            return Reply.json(202) { json in
                json.beginObject()
                json.member("subscription_arn", state.subscription.subscriptionArn)
                json.endObject()
            }.response
        }
        router.get(RouterPath(stringLiteral: SandboxState.certificatePath)) { _, _ in
            Reply(status: 200, headers: [("content-type", "application/x-pem-file")], body: state.certificatePEM).response
        }
        router.get("/sns/") { request, _ in sns(request.uri.queryParameters).response }
    }

    /// The fate drawn for each message of a provider that has webhooks, by message id.
    func fates(_ name: String) -> Reply {
        guard let provider = SandboxProvider(rawValue: name), provider != .receiver else {
            return Self.badProvider("resend, ses or telnyx")
        }
        let (fates, dropped) = state.fates.fates(provider)
        return .json(200) { json in
            json.beginObject()
            json.key("fates")
            json.beginObject()
            for (id, fate) in fates.sorted(by: { $0.key < $1.key }) { json.member(id, fate.rawValue) }
            json.endObject()
            json.member("dropped", number: Int64(dropped))
            json.endObject()
        }
    }

    /// When each accepted message of a provider arrived (Unix ms), in arrival order.
    func arrivals(_ name: String) -> Reply {
        guard let provider = SandboxProvider(rawValue: name) else { return Self.badProvider("resend, ses, telnyx or receiver") }
        let (arrivals, dropped) = state.arrivals.arrivals(provider)
        return .json(200) { json in
            json.beginObject()
            json.key("arrivals")
            json.beginArray()
            for at in arrivals { json.number(at) }
            json.endArray()
            json.member("dropped", number: Int64(dropped))
            json.endObject()
        }
    }

    /// The first one-click unsubscribe links an email provider accepted, with their recipients, in arrival order.
    func unsubscribeLinks(_ name: String) -> Reply {
        guard let provider = SandboxProvider(rawValue: name), provider == .resend || provider == .ses else { return Self.badProvider("resend or ses") }
        let links = state.unsubscribeLinks.links(provider)
        return .json(200) { json in
            json.beginObject()
            json.key("links")
            json.beginArray()
            for link in links {
                json.beginObject()
                json.member("to", link.to)
                json.member("url", link.url)
                json.endObject()
            }
            json.endArray()
            json.endObject()
        }
    }

    /// The first files an email provider accepted, per recipient, in arrival order: name, type, size and SHA-256 of
    /// the decoded bytes.
    func attachments(_ name: String) -> Reply {
        guard let provider = SandboxProvider(rawValue: name), provider == .resend || provider == .ses else { return Self.badProvider("resend or ses") }
        let entries = state.attachments.entries(provider)
        return .json(200) { json in
            json.beginObject()
            json.key("attachments")
            json.beginArray()
            for entry in entries {
                json.beginObject()
                json.member("to", entry.to)
                json.member("filename", entry.file.filename)
                json.member("content_type", entry.file.contentType)
                json.member("size", number: Int64(entry.file.size))
                json.member("sha256", entry.file.sha256)
                json.endObject()
            }
            json.endArray()
            json.endObject()
        }
    }

    /// How many messages each recipient of a provider received (addresses in lower case), for the first recipients.
    func reached(_ name: String) -> Reply {
        guard let provider = SandboxProvider(rawValue: name), provider != .receiver else { return Self.badProvider("resend, ses or telnyx") }
        let (counts, dropped) = state.reached.reached(provider)
        return .json(200) { json in
            json.beginObject()
            json.key("reached")
            json.beginObject()
            for (address, count) in counts.sorted(by: { $0.key < $1.key }) { json.member(address, number: Int64(count)) }
            json.endObject()
            json.member("dropped", number: Int64(dropped))
            json.endObject()
        }
    }

    /// Takes a provider down for `seconds` (0 brings it back): its send endpoints answer 503 until then; with
    /// `accepting` `true` they take each request's messages first (an answer lost after the provider took them).
    func outage(_ name: String, seconds text: String, accepting acceptingText: String = "false") -> Reply {
        guard let provider = SandboxProvider(rawValue: name), provider != .receiver else { return Self.badProvider("resend, ses or telnyx") }
        guard let seconds = Double(text), seconds.isFinite, (0...86_400).contains(seconds) else {
            return .json(400) { json in
                json.beginObject()
                json.member("error", "seconds must be a number from 0 to 86400")
                json.endObject()
            }
        }
        guard let accepting = Bool(acceptingText) else {
            return .json(400) { json in
                json.beginObject()
                json.member("error", "accepting must be true or false")
                json.endObject()
            }
        }
        state.outages.begin(provider, seconds: seconds, accepting: accepting)
        return .json(200) { json in
            json.beginObject()
            json.member("provider", provider.rawValue)
            json.member("seconds", value: .number(seconds))
            json.member("accepting", value: .bool(accepting))
            json.endObject()
        }
    }

    /// Keeps every webhook in the sandbox for `seconds` (0 lets them go at once).
    func holdWebhooks(seconds text: String) -> Reply {
        guard let seconds = Double(text), seconds.isFinite, (0...3_600).contains(seconds) else {
            return .json(400) { json in
                json.beginObject()
                json.member("error", "seconds must be a number from 0 to 3600")
                json.endObject()
            }
        }
        state.dispatcher.hold(seconds: seconds)
        return .json(200) { json in
            json.beginObject()
            json.member("held_seconds", value: .number(seconds))
            json.endObject()
        }
    }

    /// The 400 for a `?provider=` outside `allowed`.
    static func badProvider(_ allowed: String) -> Reply {
        .json(400) { json in
            json.beginObject()
            json.member("error", "query.provider must be \(allowed)")
            json.endObject()
        }
    }

    /// What a receiver configures to verify the sandbox's webhooks.
    func keys() -> Reply {
        .json(200) { json in
            json.beginObject()
            json.member("resend_webhook_secret", state.configuration.resend.webhookSecret)
            json.member("telnyx_public_key", Encoding.base64(state.telnyxKeys.publicKey))
            json.member("sns_topic_arn", state.subscription.topicArn)
            json.member("sns_signing_cert_url", state.sns.certificateURL)
            json.member("sns_cert_url_prefix", state.publicURL + "/sns/")
            json.member("receiver_default_secret", SandboxDefaults.receiverSecret)
            json.endObject()
        }
    }

    /// SNS's HTTP endpoint for the two actions its URLs carry: ConfirmSubscription and Unsubscribe.
    private func sns(_ query: Parameters) -> Reply {
        let requestId = state.random.uuid()
        switch query.get("Action") {
        case "ConfirmSubscription":
            guard let topic = query.get("TopicArn"), let token = query.get("Token"),
                  state.subscription.confirm(topicArn: topic, token: token) else {
                return snsError(status: 400, code: "InvalidParameter", message: "Invalid token", requestId: requestId)
            }
            return .text(200, """
                <ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
                  <ConfirmSubscriptionResult>
                    <SubscriptionArn>\(state.subscription.subscriptionArn)</SubscriptionArn>
                  </ConfirmSubscriptionResult>
                  <ResponseMetadata>
                    <RequestId>\(requestId)</RequestId>
                  </ResponseMetadata>
                </ConfirmSubscriptionResponse>
                """, contentType: "text/xml")
        case "Unsubscribe":
            guard query.get("SubscriptionArn") == state.subscription.subscriptionArn else {
                return snsError(status: 404, code: "NotFound", message: "Subscription does not exist", requestId: requestId)
            }
            state.subscription.unsubscribe()
            return .text(200, """
                <UnsubscribeResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
                  <ResponseMetadata>
                    <RequestId>\(requestId)</RequestId>
                  </ResponseMetadata>
                </UnsubscribeResponse>
                """, contentType: "text/xml")
        default:
            return snsError(status: 400, code: "InvalidAction", message: "The action is not valid for this web service.", requestId: requestId)
        }
    }

    private func snsError(status: Int, code: String, message: String, requestId: String) -> Reply {
        .text(status, """
            <ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
              <Error>
                <Type>Sender</Type>
                <Code>\(code)</Code>
                <Message>\(message)</Message>
              </Error>
              <RequestId>\(requestId)</RequestId>
            </ErrorResponse>
            """, contentType: "text/xml")
    }

    /// Queues a SubscriptionConfirmation to the SES webhook URL, as SNS sends when an endpoint subscribes.
    func sendSubscriptionConfirmation() {
        guard let url = state.webhookURL(.ses) else { return }
        let messageId = state.random.uuid()
        let now = SystemClock.nowMilliseconds
        let envelope = state.sns
        state.dispatcher.schedule(WebhookJob(
            provider: .ses, url: url, eventId: messageId,
            build: { _, _ in envelope.subscriptionConfirmation(messageId: messageId, timestampMilliseconds: now) },
            schedule: .sns(scale: state.configuration.webhooks.retryTimeScale),
            needsConfirmedSubscription: false), due: now)
    }
}
