import Foundation
import HostCore
import ProviderCrypto
import ProviderModel
import TestSupport
import Testing

/// The receiver under hostile input: header values no provider sends, on every route it serves, answer
/// with a status and leave the process up; what it caches stays bounded whatever the requests name;
/// its public port shows no metrics.
/// Part of PipelineWebhookTests (a test at a time, beside the sends).
extension PipelineWebhookTests {
    /// Timestamp-like values that overflow, do not parse, or are not numbers at all.
    static let hostileTimestamps = ["-9223372036854775808", "9223372036854775807", String(repeating: "9", count: 30), "", "-1.5"]

    /// Every header a built-in plugin reads a time, an id or a signature from, all at once.
    static func hostileHeaders(_ value: String) -> [(String, String)] {
        [("svix-id", "msg_hostile"), ("svix-timestamp", value), ("svix-signature", "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
         ("webhook-id", "msg_hostile"), ("webhook-timestamp", value), ("webhook-signature", "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
         ("telnyx-timestamp", value), ("telnyx-signature-ed25519", Encoding.base64(Array(repeating: 1, count: 64))),
         ("x-echo-timestamp", value), ("x-echo-signature", "v1=" + String(repeating: "ab", count: 32))]
    }

    /// An SNS notification with `timestamp` as its Timestamp, a forged signature and a certificate URL.
    static func snsBody(timestamp: String, certificate: String, messageID: String = "m-hostile") -> [UInt8] {
        let object: [String: Any] = ["Type": "Notification", "MessageId": messageID, "TopicArn": "arn:aws:sns:us-east-1:123456789012:batchsender-ses-events",
                                     "Message": #"{"eventType":"Delivery","mail":{"messageId":"x","destination":["b@example.org"]}}"#,
                                     "Timestamp": timestamp, "SignatureVersion": "1", "Signature": Encoding.base64(Array(repeating: 1, count: 256)),
                                     "SigningCertURL": certificate]
        return Array(try! JSONSerialization.data(withJSONObject: object))
    }

    /// One request written byte for byte on its own connection (an HTTP client would drop an empty header
    /// value), on a thread of its own; the reply's status, or 0 when the connection ended without one.
    static func rawPost(port: Int, path: String, headers: [(String, String)], body: [UInt8]) async -> Int {
        await onOwnThread {
            guard let socket = LoopbackSocket(port: port, readTimeoutMs: 10_000) else { return 0 }
            var head = "POST \(path) HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\ncontent-length: \(body.count)\r\n"
            for (name, value) in headers { head += "\(name): \(value)\r\n" }
            socket.send(head + "\r\n" + String(decoding: body, as: UTF8.self))
            var answer: [UInt8] = []
            while let bytes = socket.receive(), !bytes.isEmpty {
                answer += bytes
                if answer.count >= 12 { break }
            }
            let line = String(decoding: answer.prefix(12), as: UTF8.self)
            return line.hasPrefix("HTTP/1.1 ") ? Int(line.dropFirst(9).prefix(3)) ?? 0 : 0
        }
    }

    static func get(port: Int, _ path: String) async -> (status: Int, body: String) {
        let result = await LoopbackHTTP.get("http://127.0.0.1:\(port)\(path)", timeoutMs: 5_000)
        return (result.status, LoopbackHTTP.text(result))
    }

    @Test("A webhook-timestamp of INT64_MIN (and INT64_MAX, 30 digits, empty, -1.5) with any signature answers 401 on every provider route, per-config and managed, and the server stays up")
    func hostileTimestampsEveryRoute() async throws {
        let dead = "http://127.0.0.1:9"
        let harness = try PipelineHarness(tables: PipelineHarness.managedSESAndTelnyx(baseURL: dead) + """
            [managed.echo]
            url = "\(dead)/echo"
            secret = "echo-managed-secret"
            [managed.custom-webhook]
            url = "\(dead)/hook"
            secret = "whsec_YmF0Y2hzZW5kZXItc2FuZGJveC1yZWNlaXZlci1rZXk="
            """, plugins: ["Resend", "SES", "Telnyx", "CustomWebhook", "Echo"])
        defer { harness.finish() }
        try harness.start("host", roles: "api,receiver")
        var routes: [(provider: String, path: String)] = []
        for provider in ["resend", "custom-webhook", "telnyx", "echo", "ses"] {
            routes.append((provider, "/webhooks/\(provider)/\(try await harness.sendConfig(provider, sandbox: dead))"))
            routes.append((provider, "/webhooks/\(provider)"))
        }
        let port = harness.receiverPort
        for (provider, path) in routes {
            for value in Self.hostileTimestamps {
                // SES reads no timestamp header: the same values go in its body's Timestamp too, where an unreadable
                // one may be refused as malformed (400) before the signature.
                let bodies: [([UInt8], [Int])] = provider == "ses"
                    ? [(Self.snsBody(timestamp: "2026-11-30T10:00:00.000Z", certificate: "https://evil.example.com/cert.pem"), [401]),
                       (Self.snsBody(timestamp: value, certificate: "https://evil.example.com/cert.pem"), [400, 401])]
                    : [(Self.resendBody("hostile"), [401])]
                for (body, expected) in bodies {
                    let status = await Self.rawPost(port: port, path: path, headers: [("content-type", "application/json")] + Self.hostileHeaders(value), body: body)
                    #expect(expected.contains(status), "\(path) with timestamp \"\(value)\": \(status == 0 ? "no answer (the server died?)" : String(status))")
                    let health = await Self.get(port: port, "/health")
                    try #require(health.status == 200, "the receiver no longer answers after \(path) with timestamp \"\(value)\"")
                }
            }
        }
    }

    @Test("The ops port closes a connection that does not finish its request within [webhooks] request_timeout_ms: 408 mid-request, closed when idle")
    func opsPortDeadline() async throws {
        let harness = try PipelineHarness(webhooks: "request_timeout_ms = 500")
        defer { harness.finish() }
        let opsPort = try LoopbackPort.free()
        try harness.start("apart", roles: "receiver", arguments: ["--ops-port", String(opsPort)])
        try LoopbackPort.waitUntilListening(opsPort)
        #expect(await Self.get(port: opsPort, "/health").status == 200)
        let (slow, idle) = await onOwnThread {
            let started = ContinuousClock.now
            // A request whose body never comes whole: answered 408 and closed.
            let slow = LoopbackSocket(port: opsPort, readTimeoutMs: 3_000)
            _ = slow?.send("POST /metrics HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 100\r\n\r\nabc")
            let answer = slow?.receive().map { String(decoding: $0, as: UTF8.self) }
            // A connection that sends nothing: closed (the read ends with nothing rather than timing out).
            let idle = LoopbackSocket(port: opsPort, readTimeoutMs: 3_000)
            let closed = idle?.receive() == []
            return (ContinuousClock.now - started < .seconds(3) ? answer : nil, closed)
        }
        #expect(slow?.hasPrefix("HTTP/1.1 408") == true, "a half-sent request on the ops port: \(slow ?? "no answer within 3 s")")
        #expect(idle, "an idle ops connection stays open")
    }

    @Test("GET /metrics on the public receiver port answers 404; the API port serves the process's metrics, and a receiver run apart serves them on its --ops-port only when given")
    func metricsOffTheReceiverPort() async throws {
        let harness = try PipelineHarness().started(roles: "api,receiver")
        defer { harness.finish() }
        let onReceiver = await Self.get(port: harness.receiverPort, "/metrics")
        #expect(onReceiver.status == 404, "the receiver's port answered /metrics with \(onReceiver.status)")
        #expect(!onReceiver.body.contains("webhook_verifications_total"))
        let onAPI = await Self.get(port: harness.apiPort, "/metrics")
        #expect(onAPI.status == 200 && onAPI.body.contains("webhook_verifications_total"), "the API port: \(onAPI.status)")
        harness.kill9("host")

        let opsPort = try LoopbackPort.free()
        try harness.start("apart", roles: "receiver", arguments: ["--ops-port", String(opsPort)])
        #expect(await Self.get(port: harness.receiverPort, "/metrics").status == 404)
        let onOps = await Self.get(port: opsPort, "/metrics")
        #expect(onOps.status == 200 && onOps.body.contains("webhook_verifications_total"), "the ops port: \(onOps.status)")
        #expect(await Self.get(port: opsPort, "/health").status == 200)
        #expect(await Self.get(port: opsPort, "/webhooks/resend").status == 404, "the ops port takes no webhooks")
        harness.kill9("apart")

        // Without --ops-port, a receiver run apart opens no port but its own: its --port stays free for an API process.
        try harness.start("plain", roles: "receiver")
        #expect(await Self.get(port: harness.apiPort, "/health").status == 0, "a receiver without --ops-port listens on --port")
    }
}
