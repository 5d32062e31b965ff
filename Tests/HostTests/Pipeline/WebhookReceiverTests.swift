import Analytics
import Domain
import Foundation
import HostCore
import Messaging
import Persistence
import ProviderCrypto
import ProviderInstances
import ProviderModel
import ProviderSandbox
import TestSupport
import Testing

/// What the receiver refuses: nothing forged, tampered, stale or unsigned is stored, and the
/// answer names why.
/// Part of PipelineWebhookTests (a test at a time, beside the sends). It counts its deployment's own stream.
extension PipelineWebhookTests {
    static let resendSecret = "whsec_YmF0Y2hzZW5kZXItc2FuZGJveC1yZXNlbmQta2V5ISE="
    static let telnyxSeed = Array(0..<32).map(UInt8.init)

    static func resendBody(_ id: String) -> [UInt8] {
        Array(#"{"type":"email.delivered","created_at":"2026-11-30T10:00:00.000Z","data":{"email_id":"\#(id)","from":"a@example.com","to":["b@example.org"],"subject":"hi","created_at":"2026-11-30T10:00:00.000Z"}}"#.utf8)
    }

    static func resendHeaders(_ body: [UInt8], id: String, at seconds: Int64, secret: String = resendSecret) throws -> [KeyValue] {
        let signer = try StandardWebhookSignature(secret: secret, field: "secret")
        return [KeyValue("content-type", "application/json"), KeyValue("svix-id", id), KeyValue("svix-timestamp", String(seconds)),
                KeyValue("svix-signature", signer.sign(id: id, timestamp: seconds, body: body))]
    }

    static func telnyxBody(_ id: String) -> [UInt8] {
        Array(#"{"data":{"event_type":"message.finalized","id":"\#(id)","occurred_at":"2026-11-30T10:00:00.000+00:00","record_type":"event","payload":{"id":"msg-\#(id)","record_type":"message","to":[{"phone_number":"+13125550100","status":"delivered"}]}},"meta":{"attempt":1,"delivered_to":"x"}}"#.utf8)
    }

    static func telnyxHeaders(_ body: [UInt8], at seconds: Int64, seed: [UInt8] = telnyxSeed) -> [KeyValue] {
        let signature = Ed25519.KeyPair(seed: seed)!.sign(Array("\(seconds)|".utf8) + body)
        return [KeyValue("content-type", "application/json"), KeyValue("telnyx-signature-ed25519", Encoding.base64(signature)),
                KeyValue("telnyx-timestamp", String(seconds))]
    }

    static func post(_ url: String, _ headers: [KeyValue], _ body: [UInt8]) async -> (status: Int, body: String) {
        let result = await LoopbackHTTP.send("POST", url, headers: headers, body: body)
        return (result.status, LoopbackHTTP.text(result))
    }

    @Test("The receiver refuses every forged, tampered, stale or unsigned webhook with 401 and the reason, unknown configs with 404, big bodies with 413, and stores only what it verified")
    func receiverRefusals() async throws {
        let (harness, sandbox, resend) = try await PipelineTests.deployment(roles: "api,receiver", provider: "resend")
        defer { harness.finish() }
        let telnyx = try await harness.sendConfig("telnyx", sandbox: sandbox.url)
        let ses = try await harness.sendConfig("ses", sandbox: sandbox.url)
        let base = "http://127.0.0.1:\(harness.receiverPort)/webhooks"
        let jetStream = try JetStream(url: try StackEnvironment.value("NATS_URL"), namespace: harness.namespace)
        let before = try jetStream.lastSequence(stream: "webhooks")
        let now = Int64(Date().timeIntervalSince1970)
        var expectedStored = 0
        // Fresh ids each run: JetStream drops a repeat of a stored webhook's ids within its duplicate window.
        let run = UUID().uuidString.prefix(8).lowercased()

        // Resend (Svix): every refusal on an otherwise good request.
        let body = Self.resendBody("e1-\(run)")
        let good = try Self.resendHeaders(body, id: "msg_1_\(run)", at: now)
        let resendCases: [(String, [KeyValue], [UInt8], Int)] = [
            ("unsigned", [KeyValue("content-type", "application/json")], body, 401),
            ("forged (another secret)", try Self.resendHeaders(body, id: "msg_1_\(run)", at: now, secret: "whsec_" + Encoding.base64(Array(repeating: 7, count: 24))), body, 401),
            ("tampered body", good, Self.resendBody("e2-\(run)"), 401),
            ("stale (10 minutes old)", try Self.resendHeaders(body, id: "msg_1_\(run)", at: now - 600), body, 401),
            ("signature header alone", good.filter { $0.name != "svix-signature" } + [KeyValue("svix-signature", "v1,")], body, 401),
            ("good", good, body, 200),
        ]
        for (name, headers, payload, status) in resendCases {
            let answer = await Self.post("\(base)/resend/\(resend)", headers, payload)
            #expect(answer.status == status, "resend \(name): \(answer.status) \(answer.body)")
            if status == 401 { #expect(answer.body.contains("signature"), "resend \(name) names the reason: \(answer.body)") }
            if status == 200 { expectedStored += 1 }
        }

        // Telnyx (Ed25519 over "timestamp|body").
        let telnyxBody = Self.telnyxBody("ev1-\(run)")
        let telnyxCases: [(String, [KeyValue], [UInt8], Int)] = [
            ("unsigned", [KeyValue("content-type", "application/json")], telnyxBody, 401),
            ("forged (another key)", Self.telnyxHeaders(telnyxBody, at: now, seed: Array(repeating: 9, count: 32)), telnyxBody, 401),
            ("tampered body", Self.telnyxHeaders(telnyxBody, at: now), Self.telnyxBody("ev2-\(run)"), 401),
            ("stale (10 minutes old)", Self.telnyxHeaders(telnyxBody, at: now - 600), telnyxBody, 401),
            ("good", Self.telnyxHeaders(telnyxBody, at: now), telnyxBody, 200),
        ]
        for (name, headers, payload, status) in telnyxCases {
            let answer = await Self.post("\(base)/telnyx/\(telnyx)", headers, payload)
            #expect(answer.status == status, "telnyx \(name): \(answer.status) \(answer.body)")
            if status == 200 { expectedStored += 1 }
        }

        // SES (SNS): unsigned, a forged signature over the sandbox's real certificate, a certificate from elsewhere.
        func sns(signature: String?, certificate: String) -> [UInt8] {
            var object: [String: Any] = ["Type": "Notification", "MessageId": "m-1", "TopicArn": "arn:aws:sns:us-east-1:123456789012:batchsender-ses-events",
                                         "Message": #"{"eventType":"Delivery","mail":{"messageId":"x","destination":["b@example.org"],"timestamp":"2026-11-30T10:00:00.000Z"},"delivery":{"timestamp":"2026-11-30T10:00:01.000Z","recipients":["b@example.org"]}}"#,
                                         "Timestamp": ISO8601.extendedUTC(milliseconds: now * 1000), "SignatureVersion": "1",
                                         "SigningCertURL": certificate]
            if let signature { object["Signature"] = signature }
            return Array(try! JSONSerialization.data(withJSONObject: object))
        }
        let certificate = sandbox.url + "/sns/SimpleNotificationService-sandbox.pem"
        let sesCases: [(String, [UInt8])] = [
            ("unsigned", sns(signature: nil, certificate: certificate)),
            ("forged signature", sns(signature: Encoding.base64(Array(repeating: 1, count: 256)), certificate: certificate)),
            ("certificate from elsewhere", sns(signature: Encoding.base64(Array(repeating: 1, count: 256)), certificate: "https://evil.example.com/cert.pem")),
        ]
        for (name, payload) in sesCases {
            let answer = await Self.post("\(base)/ses/\(ses)", [KeyValue("content-type", "text/plain"), KeyValue("x-amz-sns-message-type", "Notification")], payload)
            #expect(answer.status == 401, "ses \(name): \(answer.status) \(answer.body)")
        }

        // SES signed by a key this test holds, its certificate served on loopback (a config trusting that prefix):
        // the good notification is stored; the same signature over a changed message, or another key's, is not.
        let key = try #require(RSAPrivateKey.generate()), otherKey = try #require(RSAPrivateKey.generate())
        let pem = try #require(key.selfSignedCertificatePEM(commonName: "sns.us-east-1.amazonaws.com (test)", validDays: 1))
        let documents = TestPaths.scratch.appendingPathComponent("sns-documents-\(run)")
        try FileManager.default.createDirectory(at: documents.appendingPathComponent("sns"), withIntermediateDirectories: true)
        try Data(pem).write(to: documents.appendingPathComponent("sns/test.pem"))
        let documentPort = try LoopbackPort.free()
        // Killed when released: Process.terminate()'s SIGTERM left it running (a child of a dispatch thread blocks it).
        let documentServer = try ServerProcess(executable: "/usr/bin/python3",
                                               arguments: ["-u", "-m", "http.server", String(documentPort), "--bind", "127.0.0.1", "--directory", documents.path],
                                               ready: { $0.hasPrefix("Serving HTTP") })
        defer { documentServer.kill9() }
        let documentBase = "http://127.0.0.1:\(documentPort)"
        let signedSES = try await harness.sendConfig("ses", sandbox: documentBase)
        func signed(_ messageID: String, message: String, key: RSAPrivateKey, signedMessage: String? = nil) -> [UInt8] {
            let topic = "arn:aws:sns:us-east-1:123456789012:batchsender-ses-events", timestamp = ISO8601.extendedUTC(milliseconds: now * 1000)
            let signature = SNSSignature.sign([("Message", signedMessage ?? message), ("MessageId", messageID), ("Timestamp", timestamp),
                                               ("TopicArn", topic), ("Type", "Notification")], key: key, version: "2")
            let object: [String: Any] = ["Type": "Notification", "MessageId": messageID, "TopicArn": topic, "Message": message, "Timestamp": timestamp,
                                         "SignatureVersion": "2", "Signature": signature,
                                         "SigningCertURL": documentBase + "/sns/test.pem"]
            return Array(try! JSONSerialization.data(withJSONObject: object))
        }
        func sesMessage(_ recipient: String) -> String {
            #"{"eventType":"Delivery","mail":{"messageId":"ses-\#(run)","destination":["\#(recipient)"],"timestamp":"2026-11-30T10:00:00.000Z"},"delivery":{"timestamp":"2026-11-30T10:00:01.000Z","recipients":["\#(recipient)"]}}"#
        }
        let signedCases: [(String, [UInt8], Int)] = [
            ("tampered message", signed("sns-t-\(run)", message: sesMessage("c@example.org"), key: key, signedMessage: sesMessage("b@example.org")), 401),
            ("forged (another key, same certificate URL)", signed("sns-f-\(run)", message: sesMessage("b@example.org"), key: otherKey), 401),
            ("good", signed("sns-g-\(run)", message: sesMessage("b@example.org"), key: key), 200),
        ]
        for (name, payload, status) in signedCases {
            let answer = await Self.post("\(base)/ses/\(signedSES)", [KeyValue("content-type", "text/plain"), KeyValue("x-amz-sns-message-type", "Notification")], payload)
            #expect(answer.status == status, "ses \(name): \(answer.status) \(answer.body)")
            if status == 401 { #expect(answer.body.contains("signature"), "ses \(name) names the reason: \(answer.body)") }
            if status == 200 { expectedStored += 1 }
        }

        // Routes that lead nowhere, and a body over the limit.
        let notFound = [("\(base)/resend/\(UUID().uuidString.lowercased())", "unknown config"), ("\(base)/resend/not-a-uuid", "not an id"),
                        ("\(base)/resend/\(telnyx)", "another provider's config"), ("\(base)/nosuch/\(resend)", "unknown provider"),
                        ("\(base)/telnyx", "no managed telnyx account")]
        for (url, name) in notFound {
            let answer = await Self.post(url, good, body)
            #expect(answer.status == 404, "\(name): \(answer.status) \(answer.body)")
        }
        let big = Array(repeating: UInt8(ascii: " "), count: 300_000)
        #expect(await Self.post("\(base)/resend/\(resend)", try Self.resendHeaders(big, id: "msg_big", at: now), big).status == 413)

        // The managed route verifies with the deployment's secret (TEST_MANAGED_RESEND_WEBHOOK_SECRET).
        let managed = try Self.resendHeaders(Self.resendBody("e3-\(run)"), id: "msg_3_\(run)", at: now)
        #expect(await Self.post("\(base)/resend", managed, Self.resendBody("e3-\(run)")).status == 200)
        expectedStored += 1

        // Only what was verified reached the stream (the deployment's own: no other test publishes to it).
        #expect(try jetStream.lastSequence(stream: "webhooks") - before == UInt64(expectedStored))
    }

    @Test("A webhook for a message never sent is tried again, then kept as an orphan that `webhooks orphans` lists")
    func orphans() async throws {
        let harness = try PipelineHarness(webhooks: "orphan_after_ms = 1000").started(roles: "api,receiver,webhook-processor")
        defer { harness.finish() }
        let sandbox = try TestSandbox()
        let config = try await harness.sendConfig("resend", sandbox: sandbox.url)
        let id = "orphan-\(UUID().uuidString.prefix(8).lowercased())"
        let body = Self.resendBody(id)
        let answer = await Self.post("http://127.0.0.1:\(harness.receiverPort)/webhooks/resend/\(config)",
                                     try Self.resendHeaders(body, id: "msg_\(id)", at: Int64(Date().timeIntervalSince1970)), body)
        #expect(answer.status == 200)
        var listed = ""
        try await eventually {
            listed = try harness.cli(["webhooks", "orphans"]).output
            return listed.contains(id)
        }
        let line = try #require(listed.split(separator: "\n").first { $0.contains(id) })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["provider"] as? String == "resend")
        #expect(object["sendConfigId"] as? String == config)
        #expect(object["type"] as? String == "delivered")
        #expect(object["recipient"] as? String == "b@example.org")
    }

    @Test("A receiver connection that trickles its request gets 408 and is closed after request_timeout_ms, an idle one is closed, and others are answered meanwhile")
    func receiverRequestDeadline() async throws {
        let harness = try PipelineHarness(webhooks: "request_timeout_ms = 1000").started(roles: "api,receiver")
        defer { harness.finish() }
        let port = harness.receiverPort
        struct Outcome: Sendable { var answer: String; var closedAfter: Double? }
        // Each client says when its connection is open and its opening sent.
        let (opened, open) = AsyncStream<Void>.makeStream()
        /// Sends `opening`, then one more body byte every 200 ms (when `trickle`), until the receiver closes or 6 s pass.
        func client(_ opening: String, trickle: Bool) async -> Outcome {
            await onOwnThread {
                let connected = LoopbackSocket(port: port, readTimeoutMs: 200)
                let start = Date()
                if let connected, !opening.isEmpty { connected.send(opening) }
                open.yield()
                guard let socket = connected else { return Outcome(answer: "no connection") }
                var answer: [UInt8] = []
                while Date().timeIntervalSince(start) < 6 {
                    if trickle { socket.send("a") }
                    switch socket.receive() {
                    case .some(let bytes) where bytes.isEmpty:
                        return Outcome(answer: String(decoding: answer, as: UTF8.self), closedAfter: Date().timeIntervalSince(start))
                    case .some(let bytes): answer += bytes
                    case .none: break
                    }
                }
                return Outcome(answer: String(decoding: answer, as: UTF8.self), closedAfter: nil)
            }
        }
        async let slow = client("POST /webhooks/resend HTTP/1.1\r\nhost: x\r\ncontent-length: 4000\r\n\r\n{", trickle: true)
        async let idle = client("", trickle: false)
        // Meanwhile (both connections open) a whole request on another connection is answered at once.
        var count = 0
        for await _ in opened {
            count += 1
            if count == 2 { break }
        }
        let unknown = await Self.post("http://127.0.0.1:\(port)/webhooks/resend/00000000-0000-0000-0000-000000000000", [], Array("{}".utf8))
        #expect(unknown.status == 404, "\(unknown.body)")
        let (trickled, silent) = await (slow, idle)
        #expect(trickled.answer.hasPrefix("HTTP/1.1 408"), "the trickling client got: \(trickled.answer)")
        #expect(trickled.answer.contains("within 1000 ms"))
        let slowClosed = try #require(trickled.closedAfter, "the trickling connection was still open after 6 s")
        #expect(slowClosed >= 0.9 && slowClosed < 3, "closed after \(slowClosed) s")
        #expect(silent.answer.isEmpty)
        let idleClosed = try #require(silent.closedAfter, "the idle connection was still open after 6 s")
        #expect(idleClosed >= 0.9 && idleClosed < 3, "closed after \(idleClosed) s")
    }
}
