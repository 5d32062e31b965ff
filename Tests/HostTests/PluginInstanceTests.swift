import Foundation
import HostCore
import ProviderModel
import TestSupport
import Testing

/// Swift Testing has an `Attachment` of its own.
private typealias Attachment = ProviderModel.Attachment

@Suite("Calls through the ABI")
struct PluginInstanceTests {
    static let config = [KeyValue("url", "http://127.0.0.1:9/echo"), KeyValue("secret", "s3cret")]
    static let messages = [
        OutboundMessage(id: "m1", channel: .email, from: "a@example.org", to: ["b@example.org"],
                        subject: "Grüße\r\nBcc: evil@example.org", text: "line\u{0}\"quoted\""),
        OutboundMessage(id: "m2", channel: .email, to: []),
        OutboundMessage(id: "m3", channel: .sms, to: ["+15551234567"], text: "hi 👋"),
    ]

    func instances() throws -> [PluginInstance] {
        try [TestEnvironment.swiftEcho, TestEnvironment.cEcho].map {
            try PluginLoader.load(path: $0).makeInstance(configuration: Self.config, services: TestEnvironment.services())
        }
    }

    @Test("Swift and C plugins build byte-identical, correctly signed requests")
    func prepareMatchesAcrossLanguages() async throws {
        let results = try instances().map { try $0.prepare(Self.messages) }
        #expect(results[0] == results[1])
        let prepared = results[0]
        #expect(prepared.refused.map(\.messageIndex) == [1])
        #expect(prepared.refused[0].kind == .permanent && prepared.refused[0].code == "invalid_recipient")
        let request = try #require(prepared.requests.first)
        #expect(request.messageIndices == [0, 2])
        // The body is valid JSON and the CR LF in the subject stayed inside it, escaped.
        let body = try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: [[String: Any]]]
        #expect(body?["messages"]?.first?["subject"] as? String == "Grüße\r\nBcc: evil@example.org")
        #expect(body?["messages"]?.last?["text"] as? String == "hi 👋")
        #expect(!request.headers.contains { $0.value.contains("\r") || $0.value.contains("\n") })
        // The signature is HMAC-SHA256 over "<timestamp>.<body>", checked by Python's hmac, not our own code.
        let signature = try #require(request.headers.first(named: "x-echo-signature"))
        let expected = try await pythonHMAC(body: request.body)
        #expect(signature == "v1=" + expected)
    }

    func pythonHMAC(body: [UInt8]) async throws -> String {
        let file = TestPaths.scratch.appendingPathComponent(UUID().uuidString)
        try Data(body).write(to: file)
        let result = try await TestEnvironment.run("/usr/bin/env", [
            "python3", "-c",
            "import hmac,hashlib,sys; print(hmac.new(b's3cret', b'1700000000.' + open(sys.argv[1],'rb').read(), hashlib.sha256).hexdigest())",
            file.path,
        ])
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("every response class gives one outcome per message, the same in both languages",
          arguments: [
            (HTTPResult(status: 200), SendOutcome.Kind.accepted, Int64?.none),
            (HTTPResult(status: 429, headers: [KeyValue("retry-after", "7")]), .throttled, 7000),
            (HTTPResult(status: 429), .throttled, nil),
            (HTTPResult(status: 503, body: Array("garbage".utf8)), .retryable, nil),
            (HTTPResult(status: 422, body: Array("{\"bad\":1}".utf8)), .permanent, nil),
            (HTTPResult(failure: .timeout, message: "timed out"), .retryable, nil),
          ])
    func interpret(result: HTTPResult, kind: SendOutcome.Kind, retryAfter: Int64?) throws {
        let carried = [Self.messages[0], Self.messages[2]]
        let outcomes = try instances().map { try $0.interpret(result, for: carried) }
        #expect(outcomes[0] == outcomes[1])
        #expect(outcomes[0].map(\.messageIndex) == [0, 1])
        #expect(outcomes[0].allSatisfy { $0.kind == kind && $0.retryAfterMs == retryAfter })
        if kind == .accepted { #expect(outcomes[0].map(\.providerMessageId) == ["echo-m1", "echo-m3"]) }
    }

    @Test("verify accepts a valid signature and names each reason for refusing")
    func verify() async throws {
        let body = Array("evt_1 delivered echo-m1 b@example.org 1700000000000\n".utf8)
        let good = try await pythonHMAC(body: body)
        func request(_ headers: [String: String]) -> InboundWebhook {
            InboundWebhook(headers: headers.map { KeyValue($0.key, $0.value) }, body: body)
        }
        for instance in try instances() {
            try await instance.verify(request(["X-Echo-Timestamp": "1700000000", "x-echo-signature": "v1=" + good]))
            let cases: [([String: String], PluginStatus)] = [
                (["x-echo-signature": "v1=" + good], .signatureMissing),
                (["x-echo-timestamp": "1700000000"], .signatureMissing),
                (["x-echo-timestamp": "17e8", "x-echo-signature": "v1=" + good], .signatureEncoding),
                (["x-echo-timestamp": "1700000000", "x-echo-signature": "v1=zz"], .signatureEncoding),
                (["x-echo-timestamp": "1699999699", "x-echo-signature": "v1=" + good], .signatureExpired),
                (["x-echo-timestamp": "1700000301", "x-echo-signature": "v1=" + good], .signatureExpired),
                (["x-echo-timestamp": "1700000000", "x-echo-signature": "v1=" + String(repeating: "0", count: 64)], .signatureInvalid),
            ]
            for (headers, status) in cases {
                let failure = await #expect(throws: PluginFailure.self) { try await instance.verify(request(headers)) }
                #expect(failure?.status == status, "\(instance.plugin.id) \(headers)")
                #expect(failure?.message.isEmpty == false)
            }
        }
    }

    @Test("parse gives the same normalised events in both languages; garbage is an error")
    func parse() throws {
        let body = Array("e1 delivered p1 a@example.org 1700000000000\ne2 soft_bounced p1 a@example.org 5\ne3 what p1 a@example.org 6\n".utf8)
        let events = try instances().map { try $0.parse(InboundWebhook(headers: [], body: body)) }
        #expect(events[0] == events[1])
        #expect(events[0].map(\.type) == [.delivered, .bounced, .unknown])
        #expect(events[0][1].bounceClass == .soft)
        #expect(events[0][0].timestampMs == 1_700_000_000_000)
        for instance in try instances() {
            let failure = #expect(throws: PluginFailure.self) {
                try instance.parse(InboundWebhook(headers: [], body: Array("only three fields".utf8)))
            }
            #expect(failure?.status == .malformed && failure?.field == "body:line 1")
        }
    }

    @Test("config is refused with the key at fault, by the host's check and by the plugin")
    func configErrors() throws {
        for path in [TestEnvironment.swiftEcho, TestEnvironment.cEcho] {
            let plugin = try PluginLoader.load(path: path)
            let cases: [([KeyValue], String)] = [
                ([KeyValue("secret", "x")], "config.url"),
                ([KeyValue("url", "ftp://x"), KeyValue("secret", "x")], "config.url"),
                ([KeyValue("url", "http://x"), KeyValue("secret", "x"), KeyValue("extra", "1")], "config.extra"),
                ([KeyValue("url", "http://x"), KeyValue("secret", "")], "config.secret"),
            ]
            for (entries, field) in cases {
                let failure = #expect(throws: PluginFailure.self) {
                    try plugin.makeInstance(configuration: entries, services: TestEnvironment.services())
                }
                #expect(failure?.status == .config && failure?.field == field)
            }
        }
    }

    @Test("batches beyond max_batch and channels a plugin does not send on are refused before the plugin runs")
    func batchLimits() throws {
        for instance in try instances() {
            let tooMany = (0..<101).map { OutboundMessage(id: "m\($0)", channel: .email, to: ["a@example.org"]) }
            #expect(throws: PluginFailure.self) { try instance.prepare(tooMany) }
            #expect(throws: PluginFailure.self) { try instance.prepare([]) }
        }
    }

    @Test("a plugin that injects header lines or drops outcomes is caught by the host")
    func contractViolations() throws {
        let plugin = try PluginLoader.load(path: try TestEnvironment.fixturePlugin("misbehaving_sender"))
        let instance = try plugin.makeInstance(configuration: [], services: TestEnvironment.services())
        let two = [OutboundMessage(id: "a", channel: .email, to: ["a@example.org"]),
                   OutboundMessage(id: "b", channel: .email, to: ["b@example.org"])]
        let injected = #expect(throws: PluginFailure.self) { try instance.prepare(two) }
        #expect(injected?.message.contains("CR, LF") == true)
        let dropped = #expect(throws: PluginFailure.self) { try instance.interpret(HTTPResult(status: 200), for: two) }
        #expect(dropped?.message.contains("gave message 1 no outcome") == true)
    }

    /// Answers each request by its URL's last digit: 502 for the message at index 1, 200 for the rest.
    struct ScriptedClient: HTTPClient {
        func execute(_ request: PreparedRequest, timeoutMs: Int?) async -> HTTPResult {
            HTTPResult(status: request.url.hasSuffix("/1") ? 502 : 200)
        }
    }

    @Test("a response the plugin cannot interpret fails only its own request's messages; the others' outcomes are kept")
    func interpretFailureKeepsOtherOutcomes() async throws {
        let plugin = try PluginLoader.load(path: try TestEnvironment.fixturePlugin("interpret_fails_once"))
        let instance = try plugin.makeInstance(configuration: [], services: TestEnvironment.services())
        let messages = (0..<3).map { OutboundMessage(id: "m\($0)", channel: .email, to: ["m\($0)@example.org"]) }
        let outcomes = try await Delivery(instance: instance, client: ScriptedClient()).send(messages)
        #expect(outcomes.map(\.messageIndex) == [0, 1, 2])
        #expect(outcomes.map(\.kind) == [.accepted, .retryable, .accepted], "\(outcomes)")
        #expect(outcomes[1].code == Delivery.pluginError && outcomes[1].message.contains("HTTP 502"))
    }

    @Test("a plugin built for ABI 1.0 never sees a message with files: the host refuses it as attachments_unsupported and sends the rest")
    func oldPluginRefusesAttachments() async throws {
        let plugin = try PluginLoader.load(path: try TestEnvironment.fixturePlugin("interpret_fails_once"))
        #expect(plugin.abiMinor == 0 && !plugin.readsAttachments)
        let instance = try plugin.makeInstance(configuration: [], services: TestEnvironment.services())
        var messages = (0..<3).map { OutboundMessage(id: "m\($0)", channel: .email, to: ["m\($0)@example.org"]) }
        let file = Attachment(filename: "a.pdf", content: AttachmentBytes([1, 2, 3]))
        messages[0].attachments = [file]
        messages[2].attachments = [file]
        let outcomes = try await Delivery(instance: instance, client: ScriptedClient()).send(messages)
        #expect(outcomes.map(\.messageIndex) == [0, 1, 2])
        #expect(outcomes.map(\.kind) == [.permanent, .accepted, .permanent], "\(outcomes)")
        #expect(outcomes[0].code == SendOutcome.attachmentsUnsupported && outcomes[0].message.contains("ABI 1.0"), "\(outcomes[0])")
    }

    @Test("a 1.2 plugin that does not declare BSP_FEATURE_ATTACHMENTS (rebuilt, never reading the field) is not handed files either")
    func undeclaredFeatureRefusesAttachments() async throws {
        for path in [TestEnvironment.swiftEcho, TestEnvironment.cEcho] {
            let plugin = try PluginLoader.load(path: path)
            #expect(plugin.abiMinor == 2 && !plugin.descriptor.sendsAttachments && !plugin.readsAttachments, "\(path)")
            let instance = try plugin.makeInstance(configuration: Self.config, services: TestEnvironment.services())
            var message = OutboundMessage(id: "m0", channel: .email, to: ["a@example.org"], subject: "s", text: "t")
            message.attachments = [Attachment(filename: "a.pdf", content: AttachmentBytes([1]))]
            let outcomes = try await Delivery(instance: instance, client: ScriptedClient()).send([message])
            #expect(outcomes.map(\.code) == [SendOutcome.attachmentsUnsupported] && outcomes[0].message.contains("BSP_FEATURE_ATTACHMENTS"), "\(outcomes)")
        }
        #expect(try PluginLoader.load(path: TestPaths.providerPlugin("Resend")).readsAttachments)
        #expect(try PluginLoader.load(path: TestPaths.providerPlugin("SES")).readsAttachments)
    }

    @Test("a plugin's fetch waits for the host: pending, fetched, then verified; outside the allow-list it is forbidden")
    func fetchService() async throws {
        let server = try TestHTTPServer()
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        let fetcher = DocumentFetcher(policy: FetchPolicy(allow: ["http://127.0.0.1:*/status/*"]), client: client)
        let plugin = try PluginLoader.load(path: try TestEnvironment.fixturePlugin("fetching_verifier"))
        let instance = try plugin.makeInstance(configuration: [], services: TestEnvironment.services(fetcher: fetcher))
        // The document is the test server's JSON answer to a GET of that URL.
        let url = server.url("/status/200")
        let document = await client.execute(PreparedRequest(method: "GET", url: url, headers: [], body: [], messageIndices: []))
        let request = InboundWebhook(headers: [KeyValue("x-document", url)], body: document.body)
        let first = instance.verifyOnce(request)
        #expect(first.status?.status == .pending && first.pendingFetches == [url])
        try await instance.verify(request)
        let forbidden = await #expect(throws: PluginFailure.self) {
            try await instance.verify(InboundWebhook(headers: [KeyValue("x-document", server.url("/echo"))], body: []))
        }
        #expect(forbidden?.status == .forbidden)
    }
}
