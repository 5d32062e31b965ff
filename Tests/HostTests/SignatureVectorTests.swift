import Foundation
import HostCore
import ProviderCrypto
import ProviderModel
import TestSupport
import Testing

/// Signatures checked against the providers' official libraries: fresh vectors
/// from svix and standardwebhooks (Tests/Vectors/standard_webhooks.py) with a
/// new seed each run, through the plugins as the host loads them.
@Suite("Signature vectors from the official libraries")
struct SignatureVectorTests {
    struct Vectors: Decodable {
        struct Sign: Decodable {
            var secret: String
            var id: String
            var timestamp: Int64
            var body: String
            var signature: String
        }

        struct Verify: Decodable {
            var scheme: String?
            var secret: String?
            var publicKey: String?
            var headers: [String: String]
            var body: String
            var now: Int64
            var accepted: Bool

            enum CodingKeys: String, CodingKey {
                case scheme, secret, headers, body, now, accepted
                case publicKey = "public_key"
            }
        }

        var sign: [Sign] = []
        var verify: [Verify]

        enum CodingKeys: String, CodingKey { case sign, verify }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            sign = try c.decodeIfPresent([Sign].self, forKey: .sign) ?? []
            verify = try c.decode([Verify].self, forKey: .verify)
        }
    }

    static func vectors(_ script: String, seed: UInt64, count: Int) async throws -> Vectors {
        guard let python = ProcessInfo.processInfo.environment["BATCHSENDER_PYTHON"] else {
            throw TestSupportError("BATCHSENDER_PYTHON is not set: run scripts/test, which makes a venv with Tests/Vectors/requirements.txt")
        }
        let path = TestPaths.packageRoot.appendingPathComponent("Tests/Vectors/\(script)").path
        let result = try await TestEnvironment.run(python, [path, String(seed), String(count)])
        guard result.status == 0 else { throw TestSupportError("\(script) failed: \(result.stderr)") }
        return try JSONDecoder().decode(Vectors.self, from: Data(result.stdout.utf8))
    }

    @Test("Standard Webhooks and Svix: signing matches the library, verification agrees with it")
    func standardWebhooks() async throws {
        let seed = UInt64.random(in: 1...1_000_000)
        let vectors = try await Self.vectors("standard_webhooks.py", seed: seed, count: 300)
        for vector in vectors.sign {
            let signer = try StandardWebhookSignature(secret: vector.secret, field: "secret")
            #expect(signer.sign(id: vector.id, timestamp: vector.timestamp, body: Array(vector.body.utf8)) == vector.signature,
                    "seed \(seed), id \(vector.id)")
        }
        let resend = try PluginLoader.load(path: TestPaths.binDirectory.appendingPathComponent("libResendProvider.so").path)
        let custom = try PluginLoader.load(path: TestPaths.binDirectory.appendingPathComponent("libCustomWebhookProvider.so").path)
        var accepted = 0
        for vector in vectors.verify {
            let services = TestEnvironment.services(now: vector.now * 1000)
            let instance = vector.scheme == "svix"
                ? try resend.makeInstance(configuration: [KeyValue("api_key", "re_test"), KeyValue("webhook_secret", vector.secret ?? "")],
                                          services: services)
                : try custom.makeInstance(configuration: [KeyValue("url", "https://h.example.org"), KeyValue("secret", vector.secret ?? "")],
                                          services: services)
            let request = InboundWebhook(headers: vector.headers.map { KeyValue($0.key, $0.value) }, body: Array(vector.body.utf8))
            let failure = instance.verifyOnce(request).status
            #expect((failure == nil) == vector.accepted,
                    "seed \(seed): \(vector.scheme ?? "") \(vector.headers) library accepted=\(vector.accepted), plugin said \(failure?.description ?? "ok")")
            if vector.accepted { accepted += 1 }
        }
        // Both outcomes must be exercised, or the comparison proves little.
        #expect(accepted > 10 && accepted < vectors.verify.count - 10, "seed \(seed): \(accepted) accepted")
    }

    @Test("Telnyx Ed25519: verification agrees with PyNaCl and Telnyx's tolerance")
    func telnyx() async throws {
        let seed = UInt64.random(in: 1...1_000_000)
        let vectors = try await Self.vectors("telnyx_ed25519.py", seed: seed, count: 200)
        let telnyx = try PluginLoader.load(path: TestPaths.binDirectory.appendingPathComponent("libTelnyxProvider.so").path)
        var accepted = 0
        for vector in vectors.verify {
            let instance = try telnyx.makeInstance(
                configuration: [KeyValue("api_key", "KEYtest"), KeyValue("public_key", vector.publicKey ?? "")],
                services: TestEnvironment.services(now: vector.now * 1000))
            let request = InboundWebhook(headers: vector.headers.map { KeyValue($0.key, $0.value) }, body: Array(vector.body.utf8))
            let failure = instance.verifyOnce(request).status
            #expect((failure == nil) == vector.accepted,
                    "seed \(seed): \(vector.headers) PyNaCl accepted=\(vector.accepted), plugin said \(failure?.description ?? "ok")")
            if vector.accepted { accepted += 1 }
        }
        #expect(accepted > 10 && accepted < vectors.verify.count - 10, "seed \(seed): \(accepted) accepted")
    }
}

/// SigV4 checked against botocore's signer (Tests/Vectors/sigv4_botocore.py)
/// on fresh random requests each run: the SES plugin's own requests through
/// the ABI, and the bare signer on awkward paths, queries, ports and headers.
@Suite("SigV4 against botocore")
struct SigV4BotocoreTests {
    struct Signed: Decodable {
        var authorization: String
        var amzDate: String
        var token: String

        enum CodingKeys: String, CodingKey {
            case authorization
            case amzDate = "x-amz-date"
            case token = "x-amz-security-token"
        }
    }

    struct Case {
        var method: String
        var url: String
        var headers: [KeyValue]
        var body: [UInt8]
        var now: Int64
        var credentials: AWSCredentials
        var region: String
        var service: String
        /// What the Swift side produced.
        var signed: [KeyValue]

        var json: JSONValue {
            .object([
                "method": .string(method), "url": .string(url),
                "headers": .array(headers.map { .array([.string($0.name), .string($0.value)]) }),
                "body_base64": .string(Encoding.base64(body)), "now": .number(Double(now)),
                "access_key_id": .string(credentials.accessKeyId), "secret_access_key": .string(credentials.secretAccessKey),
                "session_token": .string(credentials.sessionToken), "region": .string(region), "service": .string(service),
            ])
        }
    }

    static func botocore(_ cases: [Case]) async throws -> [Signed] {
        guard let python = ProcessInfo.processInfo.environment["BATCHSENDER_PYTHON"] else {
            throw TestSupportError("BATCHSENDER_PYTHON is not set: run scripts/test, which makes a venv with Tests/Vectors/requirements.txt")
        }
        let script = TestPaths.packageRoot.appendingPathComponent("Tests/Vectors/sigv4_botocore.py").path
        let input = JSONValue.object(["requests": .array(cases.map(\.json))]).compactText
        let path = try TestPaths.write(input, name: "sigv4.json")
        let result = try await TestEnvironment.run("/bin/sh", ["-c", "exec \"$0\" \"$1\" < \"$2\"", python, script, path])
        guard result.status == 0 else { throw TestSupportError("sigv4_botocore.py failed: \(result.stderr)") }
        struct Output: Decodable { var signed: [Signed] }
        return try JSONDecoder().decode(Output.self, from: Data(result.stdout.utf8)).signed
    }

    static func compare(_ cases: [Case], seed: UInt64) async throws {
        let signed = try await botocore(cases)
        try #require(signed.count == cases.count)
        for (item, reference) in zip(cases, signed) {
            #expect(item.signed.first(named: "authorization") == reference.authorization,
                    "seed \(seed): \(item.method) \(item.url) headers \(item.headers) token \(!item.credentials.sessionToken.isEmpty)")
            #expect(item.signed.first(named: "x-amz-date") == reference.amzDate, "seed \(seed)")
            #expect((item.signed.first(named: "x-amz-security-token") ?? "") == reference.token, "seed \(seed)")
        }
    }

    static func word(_ random: inout some RandomNumberGenerator, _ alphabet: String, _ length: ClosedRange<Int>) -> String {
        let characters = Array(alphabet)
        return String((0..<Int.random(in: length, using: &random)).map { _ in characters.randomElement(using: &random) ?? "a" })
    }

    static func credentials(_ random: inout some RandomNumberGenerator) -> AWSCredentials {
        AWSCredentials(accessKeyId: (Bool.random(using: &random) ? "AKIA" : "ASIA") + word(&random, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16...16),
                       secretAccessKey: word(&random, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/+", 40...40),
                       sessionToken: Bool.random(using: &random) ? word(&random, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/+=", 20...300) : "")
    }

    @Test("the SES plugin's requests, signed through the ABI, match botocore")
    func sesPlugin() async throws {
        let seed = UInt64.random(in: 1...1_000_000)
        var random = SeededGenerator(seed: seed)
        let plugin = try PluginLoader.load(path: TestPaths.binDirectory.appendingPathComponent("libSESProvider.so").path)
        let regions = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1", "sa-east-1"]
        var cases: [Case] = []
        for index in 0..<60 {
            let credentials = Self.credentials(&random)
            let region = regions.randomElement(using: &random) ?? "us-east-1"
            let now = Int64.random(in: 1_500_000_000...2_000_000_000, using: &random)
            var config = [KeyValue("access_key_id", credentials.accessKeyId), KeyValue("secret_access_key", credentials.secretAccessKey),
                          KeyValue("region", region)]
            if !credentials.sessionToken.isEmpty { config.append(KeyValue("session_token", credentials.sessionToken)) }
            if Bool.random(using: &random) { config.append(KeyValue("base_url", "http://127.0.0.1:\(Int.random(in: 1024...65535, using: &random))")) }
            let instance = try plugin.makeInstance(configuration: config, services: TestEnvironment.services(now: now * 1000))
            let subject = Self.word(&random, "abc xyz ÄÖÜ 東京 🚀\"\\/", 1...40)
            var message = OutboundMessage(id: "m\(index)", channel: .email, from: "Sender <s@example.com>",
                                          to: (0..<Int.random(in: 1...3, using: &random)).map { "r\($0)@example.com" },
                                          subject: subject, html: "<p>\(subject)</p>", text: subject,
                                          tags: [KeyValue("campaign", "c\(index)")])
            if Bool.random(using: &random) { message.payload = #"{"template":"Welcome","template_data":{"name":"\#(index)"}}"# }
            let prepared = try instance.prepare([message, message].prefix(Int.random(in: 1...2, using: &random)).map { $0 })
            for request in prepared.requests {
                let unsigned = request.headers.filter { !["authorization", "x-amz-date", "x-amz-security-token"].contains($0.name) }
                cases.append(Case(method: request.method, url: request.url, headers: unsigned, body: request.body, now: now,
                                  credentials: credentials, region: region, service: "ses", signed: request.headers))
            }
        }
        try await Self.compare(cases, seed: seed)
    }

    @Test("the signer on awkward paths, queries, ports and header values matches botocore")
    func signer() async throws {
        let seed = UInt64.random(in: 1...1_000_000)
        var random = SeededGenerator(seed: seed)
        let segments = ["v2", "email", ".", "..", "", "a b", "%2F", "x:y", "~user", "ü", "(1)", "it's", "a+b", "@"]
        let queries = ["", "b=2&a=1", "a=2&a=1", "Action=List&Marker=x%2Fy", "z&y=&x=1", "q=%E2%9C%93"]
        var cases: [Case] = []
        for _ in 0..<150 {
            let path = "/" + (0..<Int.random(in: 0...5, using: &random)).map { _ in segments.randomElement(using: &random) ?? "" }
                .joined(separator: "/") + (Bool.random(using: &random) ? "/" : "")
            let query = queries.randomElement(using: &random) ?? ""
            let host = ["email.us-east-1.amazonaws.com", "Example.COM:443", "127.0.0.1:8080", "localhost:80"].randomElement(using: &random) ?? ""
            let scheme = host.hasSuffix(":80") || host.hasPrefix("127") ? "http" : "https"
            let url = "\(scheme)://\(host)\(path)\(query.isEmpty ? "" : "?" + query)"
            var headers = [KeyValue("Content-Type", "application/json")]
            if Bool.random(using: &random) { headers.append(KeyValue("X-Custom", "  spaced   out\tvalue  ")) }
            if Bool.random(using: &random) { headers.append(KeyValue("User-Agent", "never signed")) }
            let body = Array(Self.word(&random, "{}\":,abc ✓", 0...200).utf8)
            let credentials = Self.credentials(&random)
            let region = ["us-east-1", "eu-central-1"].randomElement(using: &random) ?? ""
            let service = ["ses", "sns", "email"].randomElement(using: &random) ?? ""
            let now = Int64.random(in: 0...4_000_000_000, using: &random)
            let method = ["POST", "GET", "put"].randomElement(using: &random) ?? "POST"
            let signed = SigV4Signer(credentials: credentials, region: region, service: service)
                .sign(method: method, url: url, headers: headers, body: body, nowMilliseconds: now * 1000)
            cases.append(Case(method: method, url: url, headers: headers, body: body, now: now, credentials: credentials,
                              region: region, service: service, signed: signed))
        }
        try await Self.compare(cases, seed: seed)
    }
}
