import Foundation
import ProviderCrypto
import ProviderModel
import TestSupport
import Testing

/// The SES plugin through `batchsender plugin`: an SNS message signed for a
/// certificate the host fetches over HTTP, trusted only when the test-only
/// prefix is configured; and a signed request built by `prepare`.
@Suite("batchsender plugin on the SES plugin")
struct SESCommandTests {
    static let topic = "arn:aws:sns:us-east-1:123456789012:ses-events"
    static let certificates = TestPaths.packageRoot.appendingPathComponent("Sources/Providers/SES/Fixtures/certs").path
    var ses: String { TestPaths.binDirectory.appendingPathComponent("libSESProvider.so").path }

    func cli(_ arguments: [String]) async throws -> TestEnvironment.RunResult {
        try await TestEnvironment.run(TestPaths.cli, arguments)
    }

    /// A SignatureVersion 2 Delivery notification signed with the fixtures' test key.
    func notification(certificateURL: String) throws -> String {
        let event = #"{"eventType":"Delivery","mail":{"messageId":"0100-abc","destination":["a@example.com","b@example.com"]},"delivery":{"timestamp":"2024-01-15T12:00:01.000Z","recipients":["a@example.com","b@example.com"],"smtpResponse":"250 ok"}}"#
        let fields: [(String, String)] = [("Message", event), ("MessageId", "sns-1"), ("Timestamp", "2024-01-15T12:00:02.000Z"),
                                          ("TopicArn", Self.topic), ("Type", "Notification")]
        let signed = fields.map { "\($0.0)\n\($0.1)\n" }.joined()
        let keyPEM = try Data(contentsOf: URL(fileURLWithPath: Self.certificates + "/sns-fixture.key"))
        let key = try #require(RSAPrivateKey(pem: Array(keyPEM)))
        let signature = try #require(key.sign(Array(signed.utf8), digest: .sha256))
        var object = Dictionary(uniqueKeysWithValues: fields.map { ($0.0, JSONValue.string($0.1)) })
        object["SignatureVersion"] = .string("2")
        object["Signature"] = .string(Encoding.base64(signature))
        object["SigningCertURL"] = .string(certificateURL)
        return JSONValue.object(object).compactText
    }

    @Test("verify fetches the signing certificate through the host, and parse gives one event per recipient")
    func verifyAndParse() async throws {
        let server = try TestHTTPServer(files: Self.certificates)
        let certificateURL = server.url("/files/sns-fixture.pem")
        let body = try TestPaths.write(try notification(certificateURL: certificateURL), name: "sns.json")
        let headers = try TestPaths.write(#"{"x-amz-sns-message-type":"Notification","x-amz-sns-message-id":"sns-1"}"#, name: "h.json")
        let base = #""access_key_id":"AKIDEXAMPLE","secret_access_key":"s","region":"us-east-1","sns_topic_arns":["\#(Self.topic)"]"#
        let trusting = try TestPaths.write(#"{\#(base),"insecure_test_cert_url_prefix":"\#(server.url("/files/"))"}"#, name: "c.json")
        let strict = try TestPaths.write("{\(base)}", name: "c.json")
        let allow = server.url("/files/*")

        let valid = try await cli(["plugin", "verify", ses, "--config", trusting, "--headers", headers, "--body", body, "--fetch-allow", allow])
        #expect(valid.status == 0, "\(valid.stdout) \(valid.stderr)")

        // Off by default: the same message is refused, as a certificate outside amazonaws.com.
        let refused = try await cli(["plugin", "verify", ses, "--config", strict, "--headers", headers, "--body", body, "--fetch-allow", allow])
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("SigningCertURL"), "\(refused.stdout)")

        // The host refuses to fetch outside its allow-list, whatever the plugin trusts.
        let unfetched = try await cli(["plugin", "verify", ses, "--config", trusting, "--headers", headers, "--body", body,
                                 "--fetch-allow", "https://sns.*.amazonaws.com/*"])
        #expect(unfetched.status == 1)
        #expect(unfetched.stdout.contains("forbidden") || unfetched.stdout.contains("allow-list"), "\(unfetched.stdout)")

        let parsed = try await cli(["plugin", "parse", ses, "--config", trusting, "--body", body])
        #expect(parsed.status == 0, "\(parsed.stderr)")
        let events = (try? JSONSerialization.jsonObject(with: Data(parsed.stdout.utf8))) as? [[String: Any]]
        #expect(events?.map { $0["recipient"] as? String } == ["a@example.com", "b@example.com"])
        #expect(events?.map { $0["event_id"] as? String } == ["sns-1#0", "sns-1#1"])
        #expect(events?.allSatisfy { $0["type"] as? String == "delivered" && $0["provider_message_id"] as? String == "0100-abc" } == true)
    }

    @Test("prepare signs SendEmail, and SendBulkEmail for messages sharing a template")
    func prepare() async throws {
        let config = try TestPaths.write(
            #"{"access_key_id":"AKIDEXAMPLE","secret_access_key":"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY","session_token":"TOKEN","region":"eu-west-1"}"#,
            name: "c.json")
        let template = #"{\"template\":\"Welcome\",\"template_data\":{\"name\":\"Ada\"}}"#
        let messages = try TestPaths.write(#"""
            [{"id":"m1","channel":"email","from":"s@example.com","to":["a@example.com"],"subject":"Hi","text":"Hello"},
             {"id":"m2","channel":"email","from":"s@example.com","to":["b@example.com"],"payload":"\#(template)"},
             {"id":"m3","channel":"email","from":"s@example.com","to":["c@example.com"],"payload":"\#(template)"},
             {"id":"m4","channel":"email","from":"s@example.com","to":[],"subject":"Hi","text":"Hello"}]
            """#, name: "m.json")
        let result = try await cli(["plugin", "prepare", ses, "--config", config, "--messages", messages, "--now", "1705320000"])
        #expect(result.status == 0, "\(result.stderr)")
        let document = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any]
        let requests = document?["requests"] as? [[String: Any]] ?? []
        #expect(requests.map { $0["url"] as? String } == ["https://email.eu-west-1.amazonaws.com/v2/email/outbound-bulk-emails",
                                                          "https://email.eu-west-1.amazonaws.com/v2/email/outbound-emails"])
        for request in requests {
            let headers = request["headers"] as? [String: String] ?? [:]
            #expect(headers["x-amz-date"] == "20240115T120000Z" && headers["x-amz-security-token"] == "TOKEN")
            #expect(headers["authorization"]?.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240115/eu-west-1/ses/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=") == true)
        }
        let refused = document?["refused"] as? [[String: Any]] ?? []
        #expect(refused.count == 1 && refused.first?["message_index"] as? Int == 3 && refused.first?["kind"] as? String == "permanent")

        let one = try TestPaths.write(#"[{"id":"m1","channel":"email","from":"s@example.com","to":["a@example.com"],"subject":"Hi","text":"Hello"}]"#, name: "m.json")
        let headers = try TestPaths.write(#"{"x-amzn-ErrorType":"TooManyRequestsException:http://internal.amazon.com/"}"#, name: "h.json")
        let body = try TestPaths.write(#"{"message":"Maximum sending rate exceeded."}"#, name: "b.json")
        let interpreted = try await cli(["plugin", "interpret", ses, "--config", config, "--messages", one, "--status", "429",
                                   "--headers", headers, "--body", body])
        let outcome = ((try? JSONSerialization.jsonObject(with: Data(interpreted.stdout.utf8))) as? [[String: Any]])?.first
        #expect(outcome?["kind"] as? String == "throttled" && outcome?["code"] as? String == "TooManyRequestsException", "\(interpreted.stdout)")
    }

    @Test("headers go with an SES template: a lone message's in Content.Template.Headers, each bulk entry's in its ReplacementHeaders; metadata is still refused")
    func templateHeaders() async throws {
        let config = try TestPaths.write(#"{"access_key_id":"AKIDEXAMPLE","secret_access_key":"secret","region":"eu-west-1"}"#, name: "c.json")
        let template = #"{\"template\":\"Welcome\",\"template_data\":{}}"#
        func headers(_ n: Int) -> String {
            #"{"List-Unsubscribe":"<https://u.example.com/unsubscribe/t\#(n)>","List-Unsubscribe-Post":"List-Unsubscribe=One-Click"}"#
        }
        let messages = try TestPaths.write(#"""
            [{"id":"m1","channel":"email","from":"s@example.com","to":["a@example.com"],"payload":"\#(template)","headers":\#(headers(1))},
             {"id":"m2","channel":"email","from":"s@example.com","to":["b@example.com"],"payload":"\#(template)","headers":\#(headers(2))},
             {"id":"m3","channel":"email","from":"other@example.com","to":["c@example.com"],"payload":"\#(template)","headers":\#(headers(3))},
             {"id":"m4","channel":"email","from":"s@example.com","to":["d@example.com"],"payload":"\#(template)","metadata":{"k":"v"}}]
            """#, name: "m.json")
        let result = try await cli(["plugin", "prepare", ses, "--config", config, "--messages", messages, "--now", "1705320000"])
        #expect(result.status == 0, "\(result.stderr)")
        let document = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any]
        let requests = document?["requests"] as? [[String: Any]] ?? []
        func body(_ request: [String: Any]?) -> [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data((request?["body"] as? String ?? "").utf8))) as? [String: Any] ?? [:]
        }
        let bulk = body(requests.first { ($0["url"] as? String)?.hasSuffix("outbound-bulk-emails") == true })
        let entries = bulk["BulkEmailEntries"] as? [[String: Any]] ?? []
        let links = entries.map { (($0["ReplacementHeaders"] as? [[String: String]]) ?? []).first { $0["Name"] == "List-Unsubscribe" }?["Value"] }
        #expect(links == ["<https://u.example.com/unsubscribe/t1>", "<https://u.example.com/unsubscribe/t2>"], "\(bulk)")
        let lone = body(requests.first { ($0["url"] as? String)?.hasSuffix("outbound-emails") == true })
        let loneHeaders = ((lone["Content"] as? [String: Any])?["Template"] as? [String: Any])?["Headers"] as? [[String: String]] ?? []
        #expect(loneHeaders.map { $0["Name"] ?? "" } == ["List-Unsubscribe", "List-Unsubscribe-Post"], "\(lone)")
        let refused = document?["refused"] as? [[String: Any]] ?? []
        #expect(refused.count == 1 && refused.first?["message_index"] as? Int == 3, "\(refused)")
    }

    @Test("files go in SendEmail's Simple or Template content as base64, never in a bulk entry; a type SES refuses is refused first")
    func attachments() async throws {
        let config = try TestPaths.write(#"{"access_key_id":"AKIDEXAMPLE","secret_access_key":"secret","region":"eu-west-1"}"#, name: "c.json")
        let template = #"{\"template\":\"Welcome\",\"template_data\":{}}"#
        let file = #"[{"filename":"a.pdf","content_type":"application/pdf","content":"AP8KDSJcAQ=="}]"#
        let messages = try TestPaths.write(#"""
            [{"id":"m1","channel":"email","from":"s@example.com","to":["a@example.com"],"subject":"s","text":"t","attachments":\#(file)},
             {"id":"m2","channel":"email","from":"s@example.com","to":["b@example.com"],"payload":"\#(template)","attachments":\#(file)},
             {"id":"m3","channel":"email","from":"s@example.com","to":["c@example.com"],"payload":"\#(template)","attachments":\#(file)},
             {"id":"m4","channel":"email","from":"s@example.com","to":["d@example.com"],"subject":"s","text":"t",
              "attachments":[{"filename":"setup.EXE","content":"AAE="}]}]
            """#, name: "m.json")
        let result = try await cli(["plugin", "prepare", ses, "--config", config, "--messages", messages, "--now", "1705320000"])
        #expect(result.status == 0, "\(result.stderr)")
        let document = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any]
        let requests = document?["requests"] as? [[String: Any]] ?? []
        #expect(requests.count == 3 && requests.allSatisfy { ($0["url"] as? String)?.hasSuffix("/outbound-emails") == true }, "\(requests)")
        func files(_ request: [String: Any], _ kind: String) -> [[String: String]] {
            let body = (try? JSONSerialization.jsonObject(with: Data((request["body"] as? String ?? "").utf8))) as? [String: Any] ?? [:]
            return ((body["Content"] as? [String: Any])?[kind] as? [String: Any])?["Attachments"] as? [[String: String]] ?? []
        }
        let expected = [["FileName": "a.pdf", "ContentType": "application/pdf", "RawContent": "AP8KDSJcAQ=="]]
        #expect(files(requests[0], "Simple") == expected)
        #expect(files(requests[1], "Template") == expected && files(requests[2], "Template") == expected)
        let refused = document?["refused"] as? [[String: Any]] ?? []
        #expect(refused.count == 1 && refused.first?["code"] as? String == "unsupported_attachment_type", "\(refused)")
    }
}
