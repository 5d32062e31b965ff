import ProviderCrypto
import ProviderKit

/// The example provider: POSTs messages as JSON to a configured URL, signed
/// with HMAC-SHA256, and verifies webhooks signed the same way. The C example
/// in examples/c-echo implements the same protocol byte for byte
/// (docs/providers/echo.md), which the tests check.
public struct EchoProvider: MessageSending, WebhookHandling {
    public static let descriptor = PluginDescriptor(
        id: "echo", name: "Echo (Swift example)", version: "1.0.0",
        description: "POSTs messages as signed JSON to a URL; the example of the Swift kit",
        channels: [.email, .sms, .webhook], maxBatch: 100,
        configKeys: [
            ConfigKey("url", .url, required: true, description: "Where to POST messages, e.g. http://127.0.0.1:9000/echo"),
            ConfigKey("secret", required: true, secret: true, description: "HMAC-SHA256 key for requests and webhooks"),
        ],
        // An echo server publishes no rate: the host's own default applies.
        defaultRate: nil)

    /// Webhooks older or newer than this are refused (seconds).
    static let tolerance: Int64 = 300

    let url: String
    let secret: [UInt8]

    public init(configuration: PluginConfiguration, context: some PluginContext) throws(PluginFailure) {
        url = try configuration.string("url")
        secret = Array(try configuration.string("secret").utf8)
        guard !secret.isEmpty else { throw PluginFailure(.config, field: "config.secret", "must not be empty") }
    }

    public func prepare(_ messages: [OutboundMessage], context: some PluginContext) throws(PluginFailure) -> PreparedSend {
        var refused: [SendOutcome] = []
        var carried: [Int] = []
        var body = EchoJSON()
        body.raw("{\"messages\":[")
        for (index, message) in messages.enumerated() {
            if message.to.isEmpty && message.channel != .webhook {
                refused.append(.permanent(index, code: "invalid_recipient", "messages[\(index)].to is empty"))
                continue
            }
            if !message.attachments.isEmpty {
                refused.append(.attachmentsUnsupported(index, "the echo plugin sends no files"))
                continue
            }
            if !carried.isEmpty { body.raw(",") }
            carried.append(index)
            body.raw("{\"id\":"); body.string(message.id)
            body.raw(",\"idempotency_key\":"); body.string(message.idempotencyKey)
            body.raw(",\"channel\":"); body.string(message.channel.rawValue)
            body.raw(",\"to\":"); body.list(message.to)
            body.raw(",\"cc\":"); body.list(message.cc)
            body.raw(",\"bcc\":"); body.list(message.bcc)
            body.raw(",\"subject\":"); body.string(message.subject)
            body.raw(",\"text\":"); body.string(message.text)
            body.raw(",\"payload\":"); body.string(message.payload)
            body.raw("}")
        }
        body.raw("]}")
        guard !carried.isEmpty else { return PreparedSend(requests: [], refused: refused) }

        let timestamp = String(context.nowSeconds)
        var headers = [
            KeyValue("content-type", "application/json"),
            KeyValue("user-agent", "batchsender-echo/1.0"),
            KeyValue("x-echo-timestamp", timestamp),
            KeyValue("x-echo-signature", "v1=" + signature(timestamp: timestamp, body: body.bytes)),
        ]
        if carried.count == 1 { headers.append(KeyValue("idempotency-key", messages[carried[0]].idempotencyKey)) }
        let request = PreparedRequest(method: "POST", url: url, headers: headers, body: body.bytes, messageIndices: carried)
        return PreparedSend(requests: [request], refused: refused)
    }

    public func interpret(_ result: HTTPResult, for messages: [OutboundMessage], context: some PluginContext) -> [SendOutcome] {
        messages.indices.map { index in
            if let failure = result.transportFailure {
                return .retryable(index, code: "transport_\(failure.rawValue)", result.transportMessage)
            }
            switch result.status {
            case 200...299:
                return .accepted(index, id: "echo-" + messages[index].idempotencyKey)
            case 429:
                return .throttled(index, after: result.retryAfterMs(nowMs: context.nowMilliseconds), code: "429", "HTTP 429")
            case 408, 500...599:
                return .retryable(index, after: result.retryAfterMs(nowMs: context.nowMilliseconds), code: String(result.status),
                                  "HTTP \(result.status)")
            default:
                return .permanent(index, code: String(result.status), "HTTP \(result.status)")
            }
        }
    }

    public func verify(_ request: InboundWebhook, context: some PluginContext) throws(PluginFailure) {
        let timestamp = try request.signatureHeader("x-echo-timestamp")
        let signed = try request.signatureHeader("x-echo-signature")
        _ = try InboundWebhook.checkTimestamp(timestamp, header: "x-echo-timestamp", nowSeconds: context.nowSeconds,
                                              tolerance: Self.tolerance)
        guard signed.hasPrefix("v1="), let received = Encoding.unhex(String(signed.dropFirst(3))), received.count == 32 else {
            throw PluginFailure(.signatureEncoding, field: "header:x-echo-signature", "expected v1= and 64 hex digits")
        }
        let expected = Digest.hmacSHA256(key: secret, Array(timestamp.utf8) + [UInt8(ascii: ".")] + request.body)
        guard Digest.constantTimeEqual(expected, received) else {
            throw PluginFailure(.signatureInvalid, field: "header:x-echo-signature", "the signature does not match the body and secret")
        }
    }

    public func parse(_ request: InboundWebhook, context: some PluginContext) throws(PluginFailure) -> [DeliveryEvent] {
        var events: [DeliveryEvent] = []
        for (number, whole) in request.body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            // Trailing spaces, tabs and a CR (CRLF line ends) are not part of the event.
            var line = whole
            while let last = line.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") || last == UInt8(ascii: "\r") {
                line = line.dropLast()
            }
            guard !line.isEmpty else { continue }
            let fields = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
            // Bounded: an event at INT64_MAX ms is no time the host can store.
            guard fields.count == 5, let milliseconds = try? BoundedInteger.parse(utf8: fields[4], in: EventTimestamp.range) else {
                throw PluginFailure(.malformed, field: "body:line \(number + 1)",
                                    "expected: event_id type provider_message_id recipient unix_ms (0 to 253402300799999: 1970 to 9999)")
            }
            let (type, bounce) = Self.eventType(String(decoding: fields[1], as: UTF8.self))
            var raw = EchoJSON()
            raw.string(String(decoding: line, as: UTF8.self))
            events.append(DeliveryEvent(
                type: type, bounceClass: bounce, timestampMs: milliseconds,
                eventId: String(decoding: fields[0], as: UTF8.self),
                providerMessageId: String(decoding: fields[2], as: UTF8.self),
                recipient: String(decoding: fields[3], as: UTF8.self),
                raw: String(decoding: raw.bytes, as: UTF8.self)))
        }
        guard !events.isEmpty else { throw PluginFailure(.malformed, field: "body", "no events: a webhook carries at least one line") }
        return events
    }

    static func eventType(_ name: String) -> (DeliveryEvent.EventType, DeliveryEvent.BounceClass?) {
        switch name {
        case "bounced": (.bounced, .hard)
        case "soft_bounced": (.bounced, .soft)
        default: (DeliveryEvent.EventType(rawValue: name) ?? .unknown, nil)
        }
    }

    /// The signature this instance would give, for benchmarks and tests in-process.
    public func signatureForBenchmark(timestamp: String, body: [UInt8]) -> String {
        signature(timestamp: timestamp, body: body)
    }

    func signature(timestamp: String, body: [UInt8]) -> String {
        Encoding.hex(Digest.hmacSHA256(key: secret, Array(timestamp.utf8) + [UInt8(ascii: ".")] + body))
    }
}
