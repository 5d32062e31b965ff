import Foundation
import HostCore
import ProviderCrypto
import ProviderModel
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

    static func vectors(_ script: String, seed: UInt64, count: Int) throws -> Vectors {
        guard let python = ProcessInfo.processInfo.environment["BATCHSENDER_PYTHON"] else {
            throw TestEnvironment.FixtureError(message: "BATCHSENDER_PYTHON is not set: run scripts/test, which makes a venv with Tests/Vectors/requirements.txt")
        }
        let path = TestEnvironment.packageRoot.appendingPathComponent("Tests/Vectors/\(script)").path
        let result = try TestEnvironment.run(python, [path, String(seed), String(count)])
        guard result.status == 0 else { throw TestEnvironment.FixtureError(message: "\(script) failed: \(result.stderr)") }
        return try JSONDecoder().decode(Vectors.self, from: Data(result.stdout.utf8))
    }

    @Test("Standard Webhooks and Svix: signing matches the library, verification agrees with it")
    func standardWebhooks() throws {
        let seed = UInt64.random(in: 1...1_000_000)
        let vectors = try Self.vectors("standard_webhooks.py", seed: seed, count: 300)
        for vector in vectors.sign {
            let signer = try StandardWebhookSignature(secret: vector.secret, field: "secret")
            #expect(signer.sign(id: vector.id, timestamp: vector.timestamp, body: Array(vector.body.utf8)) == vector.signature,
                    "seed \(seed), id \(vector.id)")
        }
        let resend = try PluginLoader.load(path: TestEnvironment.binDirectory.appendingPathComponent("libResendProvider.so").path)
        let custom = try PluginLoader.load(path: TestEnvironment.binDirectory.appendingPathComponent("libCustomWebhookProvider.so").path)
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
    func telnyx() throws {
        let seed = UInt64.random(in: 1...1_000_000)
        let vectors = try Self.vectors("telnyx_ed25519.py", seed: seed, count: 200)
        let telnyx = try PluginLoader.load(path: TestEnvironment.binDirectory.appendingPathComponent("libTelnyxProvider.so").path)
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
