import Foundation
import ProviderModel

/// A plugin's fixtures folder (docs/conformance.md): its valid and invalid
/// configs, a base message, recorded provider responses with the outcomes
/// they must give, and signed webhook requests with their verification
/// result and normalised events.
struct Fixtures: Sendable {
    struct Manifest: Decodable, Sendable {
        var plugins: [String]
        /// The host clock during every call, so signed vectors stay inside their tolerance.
        var nowMs: Int64
        var config: [String: JSONValue]
        var invalidConfigs: [InvalidConfig] = []
        var message: OutboundMessage?
        var webhook: WebhookRules?
        /// Documents the host's fetch service serves during calls (signing certificates): URL → file in the folder.
        var documents: [String: String] = [:]
        /// A valid message for each further channel the plugin sends on (the base `message` covers its own).
        var channelMessages: [String: OutboundMessage] = [:]
        /// How many addresses a message may carry in each field (email defaults: to 3, cc 2, bcc 2).
        var recipients: RecipientLimits?
        /// The outcome kind each HTTP status must give, where it differs from the documented default per class.
        var statusClasses: [String: SendOutcome.Kind] = [:]
        /// The plugin's documented event table, checked by substituting each type into one fixture.
        /// One table, or several when no single template body can carry every event name.
        var eventTypes: [EventTable]?
        /// `webhook`: every request the plugin prepares is signed as its webhooks are, and must verify.
        var requestSignature: String?

        /// Milliseconds from 1970 to the end of year 9999: the clock a manifest may pin.
        static let nowRange: ClosedRange<Int64> = 0...253_402_300_799_999

        enum CodingKeys: String, CodingKey {
            case plugins, config, message, webhook, documents, recipients
            case nowMs = "now_ms"
            case invalidConfigs = "invalid_configs"
            case channelMessages = "channel_messages"
            case statusClasses = "status_classes"
            case eventTypes = "event_types"
            case requestSignature = "request_signature"
        }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            plugins = try c.decode([String].self, forKey: .plugins)
            nowMs = try c.decode(Int64.self, forKey: .nowMs)
            // Checks shift this clock by a tolerance and print it as a date: held to years 1970 to 9999, no sum of
            // a fixture's numbers can overflow, and a bad manifest is a named error rather than a trap of the suite.
            guard Self.nowRange.contains(nowMs) else {
                throw DecodingError.dataCorruptedError(forKey: .nowMs, in: c,
                    debugDescription: "must be milliseconds since 1970 from \(Self.nowRange.lowerBound) to \(Self.nowRange.upperBound) (year 9999)")
            }
            config = try c.decode([String: JSONValue].self, forKey: .config)
            invalidConfigs = try c.decodeIfPresent([InvalidConfig].self, forKey: .invalidConfigs) ?? []
            message = try c.decodeIfPresent(OutboundMessage.self, forKey: .message)
            webhook = try c.decodeIfPresent(WebhookRules.self, forKey: .webhook)
            documents = try c.decodeIfPresent([String: String].self, forKey: .documents) ?? [:]
            channelMessages = try c.decodeIfPresent([String: OutboundMessage].self, forKey: .channelMessages) ?? [:]
            recipients = try c.decodeIfPresent(RecipientLimits.self, forKey: .recipients)
            statusClasses = try c.decodeIfPresent([String: SendOutcome.Kind].self, forKey: .statusClasses) ?? [:]
            if let one = try? c.decodeIfPresent(EventTable.self, forKey: .eventTypes) {
                eventTypes = [one]
            } else {
                eventTypes = try c.decodeIfPresent([EventTable].self, forKey: .eventTypes)
            }
            requestSignature = try c.decodeIfPresent(String.self, forKey: .requestSignature)
            if let requestSignature, requestSignature != "webhook" {
                throw DecodingError.dataCorruptedError(forKey: .requestSignature, in: c,
                                                       debugDescription: "the one scheme the suite checks is \"webhook\"")
            }
        }
    }

    struct RecipientLimits: Decodable, Sendable {
        var to = 3
        var cc = 2
        var bcc = 2

        enum CodingKeys: String, CodingKey { case to, cc, bcc }

        init() {}

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            to = try c.decodeIfPresent(Int.self, forKey: .to) ?? 3
            cc = try c.decodeIfPresent(Int.self, forKey: .cc) ?? 2
            bcc = try c.decodeIfPresent(Int.self, forKey: .bcc) ?? 2
        }
    }

    /// The documented mapping from the provider's event names to normalised types.
    struct EventTable: Decodable, Sendable {
        /// A webhook fixture whose body carries one event of type `replace`.
        var fixture: String
        /// The text in that body that names the event; each name of `map` takes its place.
        var replace: String
        /// What replaces `replace`, with `$name` standing for the event name (default: the name alone),
        /// so the text can be anchored (`"eventType": "$name"`) where the name alone also occurs elsewhere.
        var with: String?
        /// Provider event name → normalised type, or `type:bounce_class` (e.g. `bounced:hard`).
        var map: [String: String]

        func body(_ template: [UInt8], naming name: String) -> [UInt8] {
            let text = (with ?? "$name").replacingOccurrences(of: "$name", with: name)
            return Array(String(decoding: template, as: UTF8.self).replacingOccurrences(of: replace, with: text).utf8)
        }
    }

    /// An expected request: what the plugin must build for these messages.
    struct RequestCase: Decodable, Sendable {
        var file = ""
        var description: String
        /// Each merged over the base message; `id` and `idempotency_key` default to msg_<n> and idem_<n>.
        var messages: [[String: JSONValue]]
        var requests: [ExpectedRequest]
        /// Indices of the messages the plugin must refuse instead of sending.
        var refused: [Int] = []

        enum CodingKeys: String, CodingKey { case description, messages, requests, refused }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            description = try c.decode(String.self, forKey: .description)
            messages = try c.decode([[String: JSONValue]].self, forKey: .messages)
            requests = try c.decode([ExpectedRequest].self, forKey: .requests)
            refused = try c.decodeIfPresent([Int].self, forKey: .refused) ?? []
        }
    }

    struct ExpectedRequest: Decodable, Sendable {
        var method: String
        var url: String
        /// Every header the request carries (names case-insensitive); the value `*` accepts any value.
        var headers: [String: String]
        /// The body as JSON, compared structurally (member order and spacing do not matter).
        var json: JSONValue?
        /// The body as exact text, for bodies that are not JSON.
        var body: String?
        /// The message indices the request carries.
        var messages: [Int]
    }

    struct InvalidConfig: Decodable, Sendable {
        var description: String
        var config: [String: JSONValue]
        /// The field the error must name, e.g. `config.webhook_secret`.
        var field: String
    }

    /// How the suite derives attacks from the valid webhook fixtures.
    struct WebhookRules: Decodable, Sendable {
        /// What the signature covers: `body` (its exact bytes, the default) or
        /// `fields` (members of a JSON body, as SNS signs: the body's layout may change, a signed value may not).
        enum SignedContent: String, Decodable, Sendable {
            case body, fields
        }

        /// Headers that carry the signature (and its id and timestamp): each is removed in turn.
        var signatureHeaders: [String] = []
        /// The header whose value is the signature itself: tampered and given malformed encodings.
        var signatureHeader: String?
        /// Members of a JSON body that carry the signature (SNS: Signature, SigningCertURL…): each is removed in turn.
        var signatureFields: [String] = []
        /// The body member whose value is the signature itself, when it travels in the body.
        var signatureField: String?
        var signedContent: SignedContent = .body
        /// With `fields`: a signed member of the body whose value is changed (SNS: Message).
        var tamperField: String?
        /// With `fields`: the members the signature covers. A body whose values of these
        /// members are unchanged may verify, whatever else changed (SNS leaves UnsubscribeURL unsigned).
        var signedFields: [String] = []
        /// Seconds of clock skew the plugin tolerates; absent when the scheme has no timestamp.
        var toleranceSeconds: Int64?
        /// Config values that replace the valid ones to give a wrong secret; absent when the
        /// scheme has no shared secret (keys come from a certificate).
        var wrongSecret: [String: JSONValue]?
        /// What separates signatures when the header may carry several (key rotation, e.g. " " for Svix);
        /// absent when it carries one.
        var signatureSeparator: String?

        /// The clock skew a manifest may declare: up to a year, so a stale clock stays a date.
        static let toleranceRange: ClosedRange<Int64> = 0...31_622_400

        /// How far the clock moves for a request a minute past the tolerance, in milliseconds: computed
        /// without overflow whatever the manifest says (the decoder also holds it to `toleranceRange`).
        var staleSkewMs: Int64? {
            toleranceSeconds.map { BoundedInteger.product(Swift.min($0, Int64.max - 60) + 60, 1000, clampedTo: 0...Int64.max) }
        }

        enum CodingKeys: String, CodingKey {
            case signatureHeaders = "signature_headers"
            case signatureHeader = "signature_header"
            case signatureFields = "signature_fields"
            case signatureField = "signature_field"
            case signedContent = "signed_content"
            case tamperField = "tamper_field"
            case signedFields = "signed_fields"
            case toleranceSeconds = "tolerance_seconds"
            case wrongSecret = "wrong_secret"
            case signatureSeparator = "signature_separator"
        }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            signatureHeaders = try c.decodeIfPresent([String].self, forKey: .signatureHeaders) ?? []
            signatureHeader = try c.decodeIfPresent(String.self, forKey: .signatureHeader)
            signatureFields = try c.decodeIfPresent([String].self, forKey: .signatureFields) ?? []
            signatureField = try c.decodeIfPresent(String.self, forKey: .signatureField)
            signedContent = try c.decodeIfPresent(SignedContent.self, forKey: .signedContent) ?? .body
            tamperField = try c.decodeIfPresent(String.self, forKey: .tamperField)
            signedFields = try c.decodeIfPresent([String].self, forKey: .signedFields) ?? []
            toleranceSeconds = try c.decodeIfPresent(Int64.self, forKey: .toleranceSeconds)
            if let toleranceSeconds, !Self.toleranceRange.contains(toleranceSeconds) {
                throw DecodingError.dataCorruptedError(forKey: .toleranceSeconds, in: c,
                    debugDescription: "must be seconds from \(Self.toleranceRange.lowerBound) to \(Self.toleranceRange.upperBound) (a year)")
            }
            wrongSecret = try c.decodeIfPresent([String: JSONValue].self, forKey: .wrongSecret)
            signatureSeparator = try c.decodeIfPresent(String.self, forKey: .signatureSeparator)
            guard signatureHeader != nil || signatureField != nil else {
                throw DecodingError.keyNotFound(CodingKeys.signatureHeader, .init(
                    codingPath: c.codingPath, debugDescription: "name signature_header or signature_field: where the signature travels"))
            }
        }
    }

    struct ResponseCase: Decodable, Sendable {
        var file = ""
        var description: String
        /// How many copies of the base message the call carries.
        var messages: Int
        var response: RecordedResponse
        var expect: [ExpectedOutcome]

        enum CodingKeys: String, CodingKey { case description, messages, response, expect }
    }

    struct RecordedResponse: Decodable, Sendable {
        var status: Int?
        var headers: [String: String]?
        var body: String?
        var bodyBase64: String?
        /// A transport failure instead of a response: timeout, connect, tls, io, other.
        var transport: TransportFailure?

        enum CodingKeys: String, CodingKey {
            case status, headers, body, transport
            case bodyBase64 = "body_base64"
        }

        var result: HTTPResult {
            if let transport { return HTTPResult(failure: transport, message: "recorded \(transport.rawValue)") }
            return HTTPResult(status: status ?? 200, headers: Fixtures.headers(headers ?? [:]),
                              body: Fixtures.body(body, base64: bodyBase64))
        }
    }

    struct ExpectedOutcome: Decodable, Sendable {
        var kind: SendOutcome.Kind
        var providerMessageId: String?
        var retryAfterMs: Int64?
        var code: String?

        enum CodingKeys: String, CodingKey {
            case kind, code
            case providerMessageId = "provider_message_id"
            case retryAfterMs = "retry_after_ms"
        }
    }

    struct WebhookCase: Decodable, Sendable {
        var file = ""
        var description: String
        var request: RecordedRequest
        /// `ok`, or the status verification must fail with (e.g. `signature_invalid`).
        var verify: String
        /// The normalised events parse must give, each compared on the fields it names.
        var events: [[String: JSONValue]]?

        enum CodingKeys: String, CodingKey { case description, request, verify, events }
    }

    struct RecordedRequest: Decodable, Sendable {
        var method: String?
        var path: String?
        var headers: [String: String]
        var body: String?
        var bodyBase64: String?

        enum CodingKeys: String, CodingKey {
            case method, path, headers, body
            case bodyBase64 = "body_base64"
        }

        var webhook: InboundWebhook {
            InboundWebhook(method: method ?? "POST", path: path ?? "/", headers: Fixtures.headers(headers),
                           body: Fixtures.body(body, base64: bodyBase64))
        }
    }

    /// A recorded body: `body_base64` when given (binary bodies), else the text of `body`.
    static func body(_ text: String?, base64: String?) -> [UInt8] {
        base64.flatMap { Data(base64Encoded: $0) }.map(Array.init) ?? Array((text ?? "").utf8)
    }

    /// Recorded headers as the host hands them over: names lower-case, in a stable order.
    static func headers(_ recorded: [String: String]) -> [KeyValue] {
        recorded.sorted { $0.key < $1.key }.map { KeyValue($0.key.lowercased(), $0.value) }
    }

    let folder: String
    let manifest: Manifest
    let responses: [ResponseCase]
    let webhooks: [WebhookCase]
    let requests: [RequestCase]
    /// The manifest's documents, read: URL → bytes.
    let documents: [String: [UInt8]]

    var config: [KeyValue] { (try? PluginConfiguration.entries(fromJSON: manifest.config)) ?? [] }

    func config(replacing values: [String: JSONValue]) -> [KeyValue] {
        (try? PluginConfiguration.entries(fromJSON: manifest.config.merging(values) { $1 })) ?? []
    }

    /// `count` copies of the base message, each with its own id and idempotency key.
    func messages(_ count: Int, channel: Channel) -> [OutboundMessage] {
        let base = manifest.message ?? OutboundMessage(
            id: "msg", channel: channel, from: "Sender <sender@example.com>", to: ["recipient@example.com"],
            subject: "Conformance", text: "Hello from the conformance suite")
        return (0..<count).map { index in
            var message = base
            message.id = "msg_\(index)"
            message.idempotencyKey = "idem_\(index)"
            return message
        }
    }

    var validWebhooks: [WebhookCase] { webhooks.filter { $0.verify == "ok" } }

    /// A valid message on `channel`: the fixtures' own, or one the suite makes up.
    func baseMessage(for channel: Channel) -> OutboundMessage {
        if let message = manifest.message, message.channel == channel { return message }
        if let message = manifest.channelMessages[channel.rawValue] { return message }
        switch channel {
        case .email:
            return OutboundMessage(id: "msg", channel: .email, from: "Sender <sender@example.com>", to: ["recipient@example.com"],
                                   subject: "Conformance", text: "Hello from the conformance suite")
        case .sms:
            return OutboundMessage(id: "msg", channel: .sms, from: "+15550100000", to: ["+15550100001"],
                                   text: "Hello from the conformance suite")
        case .webhook:
            return OutboundMessage(id: "msg", channel: .webhook, payload: #"{"event":"conformance","n":1}"#)
        }
    }

    /// The messages of a request fixture: each merged over the base message.
    func messages(of request: RequestCase) throws(FixtureError) -> [OutboundMessage] {
        let base = manifest.message ?? baseMessage(for: .email)
        guard let encoded = try? JSONEncoder().encode(base),
              case .object(let baseObject)? = try? JSONDecoder().decode(JSONValue.self, from: encoded) else {
            throw FixtureError(description: "the base message cannot be written as JSON")
        }
        var messages: [OutboundMessage] = []
        for (index, overrides) in request.messages.enumerated() {
            var object = baseObject
            object["id"] = .string("msg_\(index)")
            object["idempotency_key"] = .string("idem_\(index)")
            object.merge(overrides) { $1 }
            do {
                messages.append(try JSONDecoder().decode(OutboundMessage.self, from: Data(JSONValue.object(object).compactBytes)))
            } catch {
                throw FixtureError(description: "requests/\(request.file): messages[\(index)]: \(error)")
            }
        }
        return messages
    }
}

/// Why a fixtures folder could not be read: names the file and what is wrong.
struct FixtureError: Error, CustomStringConvertible {
    var description: String
}

extension Fixtures {
    /// Just the manifest, to learn which plugins a folder serves.
    static func manifest(in folder: String) throws(FixtureError) -> Manifest {
        try decode(folder + "/fixtures.json")
    }

    static func load(folder: String) throws(FixtureError) -> Fixtures {
        let manifest = try manifest(in: folder)
        var responses: [ResponseCase] = []
        for path in jsonFiles(in: folder + "/responses") {
            var response: ResponseCase = try decode(path)
            response.file = (path as NSString).lastPathComponent
            guard response.messages >= 1, response.expect.count == response.messages else {
                throw FixtureError(description: "\(path): expect must list one outcome for each of the \(response.messages) messages")
            }
            responses.append(response)
        }
        var webhooks: [WebhookCase] = []
        for path in jsonFiles(in: folder + "/webhooks") {
            var webhook: WebhookCase = try decode(path)
            webhook.file = (path as NSString).lastPathComponent
            guard webhook.verify == "ok" || PluginStatus(rawValue: webhook.verify) != nil else {
                throw FixtureError(description: "\(path): verify must be ok or a status name such as signature_invalid, got \(webhook.verify)")
            }
            webhooks.append(webhook)
        }
        var requests: [RequestCase] = []
        for path in jsonFiles(in: folder + "/requests") {
            var request: RequestCase = try decode(path)
            request.file = (path as NSString).lastPathComponent
            guard !request.messages.isEmpty else { throw FixtureError(description: "\(path): messages is empty") }
            requests.append(request)
        }
        for table in manifest.eventTypes ?? [] where !webhooks.contains(where: { $0.file == table.fixture }) {
            throw FixtureError(description: "\(folder)/fixtures.json: event_types.fixture: no webhook fixture \(table.fixture)")
        }
        var documents: [String: [UInt8]] = [:]
        for (url, file) in manifest.documents {
            guard let data = FileManager.default.contents(atPath: folder + "/" + file) else {
                throw FixtureError(description: "\(folder)/fixtures.json: documents[\"\(url)\"]: no file \(file) in the folder")
            }
            documents[url] = Array(data)
        }
        return Fixtures(folder: folder, manifest: manifest, responses: responses, webhooks: webhooks, requests: requests,
                        documents: documents)
    }

    private static func jsonFiles(in folder: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted().map { folder + "/" + $0 }
    }

    private static func decode<T: Decodable>(_ path: String) throws(FixtureError) -> T {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FixtureError(description: "\(path): no such file")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw FixtureError(description: "\(path): missing \(Self.path(context.codingPath + [key]))")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw FixtureError(description: "\(path): \(Self.path(context.codingPath)): \(context.debugDescription)")
        } catch let DecodingError.dataCorrupted(context) {
            throw FixtureError(description: "\(path): \(Self.path(context.codingPath)): \(context.debugDescription)")
        } catch {
            throw FixtureError(description: "\(path): \(error)")
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.isEmpty ? "(top level)" : keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: ["."])
    }
}
