import BenchmarkSupport
import Foundation
import HostCore
import Logging
import ProviderCrypto
import ProviderModel

/// Prints, side by side in one run, each provider plugin's verify, parse and
/// prepare called through the loaded ABI, and the official Python
/// implementation of the same signature work (reference.py: svix,
/// standardwebhooks, PyNaCl, botocore) on the very same inputs: operations
/// per second (medians) and the ratio.
/// Usage: batchsender-bench-providers [rounds] [iterations]   (BATCHSENDER_PYTHON: the venv's python;
/// BATCHSENDER_BENCH_ONLY="ses prepare" times only the rows it prefixes, to profile one operation)
@main
struct ProviderBenchmark {
    struct Reference: Decodable {
        struct Case: Decodable {
            var secret: String?
            var publicKey: String?
            var headers: [String: String]?
            var body: String?

            enum CodingKeys: String, CodingKey {
                case secret, headers, body
                case publicKey = "public_key"
            }
        }

        var now: Int64
        var cases: [String: Case]
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func main() {
        do {
            try run()
        } catch {
            FileHandle.standardError.write(Data("batchsender-bench-providers: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run() throws {
        let arguments = CommandLine.arguments
        let rounds = arguments.count > 1 ? Int(arguments[1]) ?? 7 : 7
        let iterations = arguments.count > 2 ? Int(arguments[2]) ?? 2000 : 2000
        let bin = URL(fileURLWithPath: arguments[0]).deletingLastPathComponent()
        let interpreter = ProcessInfo.processInfo.environment["BATCHSENDER_PYTHON"]
            ?? packageRoot.appendingPathComponent(".build/pyvenv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: interpreter) else {
            throw Failure(description: "no Python at \(interpreter): run scripts/test once (it makes .build/pyvenv), or set BATCHSENDER_PYTHON")
        }
        let python = try ReferenceProcess(python: interpreter, script: packageRoot.appendingPathComponent("Benchmarks/ProviderReference/reference.py").path)
        let reference = python.inputs
        var logger = Logger(label: "bench")
        logger.logLevel = .critical

        func instance(_ library: String, _ config: [KeyValue], fetcher: DocumentFetcher? = nil) throws -> PluginInstance {
            let plugin = try PluginLoader.load(path: bin.appendingPathComponent(library).path)
            return try plugin.makeInstance(configuration: config, services: HostServices(logger: logger, fetcher: fetcher))
        }
        func webhook(_ item: Reference.Case?) -> InboundWebhook {
            InboundWebhook(headers: (item?.headers ?? [:]).map { KeyValue($0.key, $0.value) }, body: Array((item?.body ?? "").utf8))
        }
        let email = OutboundMessage(id: "rcp_1", channel: .email, idempotencyKey: "batch_42:rcp_1", from: "News <news@example.org>",
                                    to: ["ada@example.org"], subject: "Your weekly digest", text: "Hello Ada, here is your digest.")
        var sms = OutboundMessage(id: "rcp_1", channel: .sms, idempotencyKey: "batch_42:rcp_1", to: ["+18445552367"])
        sms.text = "Your code is 123456"
        var hook = OutboundMessage(id: "rcp_1", channel: .webhook, idempotencyKey: "batch_42:rcp_1")
        hook.payload = #"{"order":42,"status":"shipped"}"#

        let svix = reference.cases["svix"], standard = reference.cases["standardwebhooks"], nacl = reference.cases["pynacl"]
        // Requests are built once, outside the timed calls.
        let resendWebhook = webhook(svix), customWebhook = webhook(standard), telnyxWebhook = webhook(nacl)
        let resend = try instance("libResendProvider.so", [KeyValue("api_key", "re_benchmark"), KeyValue("webhook_secret", svix?.secret ?? "")])
        let custom = try instance("libCustomWebhookProvider.so", [KeyValue("url", "https://hooks.example.org/in"),
                                                                   KeyValue("secret", standard?.secret ?? "")])
        let telnyx = try instance("libTelnyxProvider.so", [KeyValue("api_key", "KEYbenchmark"), KeyValue("public_key", nacl?.publicKey ?? ""),
                                                           KeyValue("from", "+18445550001")])
        let (sesConfig, snsWebhook, fetcher) = try sesInputs()
        let ses = try instance("libSESProvider.so", sesConfig, fetcher: fetcher)

        struct Row {
            var plugin, operation: String
            var call: () throws -> Void
            var reference: String = ""
            /// The case of reference.py that does the same work.
            var referenceCase: String? = nil
            var goal: Double? = nil
        }
        let rows: [Row] = [
            Row(plugin: "resend", operation: "verify", call: { try resend.verifyOnce(resendWebhook).status.map { throw $0 } },
                reference: "svix Webhook.verify", referenceCase: "svix", goal: 5),
            Row(plugin: "resend", operation: "parse", call: { _ = try resend.parse(resendWebhook) }),
            Row(plugin: "resend", operation: "prepare", call: { _ = try resend.prepare([email]) }),
            Row(plugin: "custom-webhook", operation: "verify", call: { try custom.verifyOnce(customWebhook).status.map { throw $0 } },
                reference: "standardwebhooks Webhook.verify", referenceCase: "standardwebhooks", goal: 5),
            Row(plugin: "custom-webhook", operation: "parse", call: { _ = try custom.parse(customWebhook) }),
            Row(plugin: "custom-webhook", operation: "prepare", call: { _ = try custom.prepare([hook]) }),
            Row(plugin: "telnyx", operation: "verify", call: { try telnyx.verifyOnce(telnyxWebhook).status.map { throw $0 } },
                reference: "PyNaCl VerifyKey.verify", referenceCase: "pynacl", goal: 1),
            Row(plugin: "telnyx", operation: "parse", call: { _ = try telnyx.parse(telnyxWebhook) }),
            Row(plugin: "telnyx", operation: "prepare", call: { _ = try telnyx.prepare([sms]) }),
            Row(plugin: "ses", operation: "verify (SNS)", call: { try ses.verifyOnce(snsWebhook).status.map { throw $0 } }),
            Row(plugin: "ses", operation: "parse", call: { _ = try ses.parse(snsWebhook) }),
            Row(plugin: "ses", operation: "prepare (SigV4)", call: { _ = try ses.prepare([email]) },
                reference: "botocore SigV4Auth.add_auth", referenceCase: "botocore", goal: 5),
        ]

        print("Provider plugins through the ABI vs the official Python implementations, one run")
        print("median of \(rounds) rounds x \(iterations) calls each, plugin and reference rounds interleaved; operations per second")
        print(pad("plugin", 15) + pad("operation", 17) + pad("plugin/s", 11, right: true) + "  " + pad("reference", 32)
              + pad("ref/s", 10, right: true) + pad("ratio", 9, right: true) + "  goal")
        let only = ProcessInfo.processInfo.environment["BATCHSENDER_BENCH_ONLY"] ?? ""
        for row in rows where "\(row.plugin) \(row.operation)".hasPrefix(only) {
            // Every call must succeed before its speed means anything.
            try row.call()
            var samples: [Double] = [], referenceSamples: [Double] = []
            // Rounds alternate between the plugin and the reference, so both see the same machine load.
            for _ in 0..<rounds {
                samples.append(1e9 / (try Timing.nanosecondsPerCall(iterations, row.call)))
                if let name = row.referenceCase { referenceSamples.append(try python.rate(name, iterations: iterations)) }
            }
            let ops = Timing.median(samples)
            let referenceOps = row.referenceCase == nil ? nil : Timing.median(referenceSamples)
            let ratio = referenceOps.map { ops / $0 }
            var verdict = ""
            if let ratio, let goal = row.goal { verdict = ratio >= goal ? "met" : "MISSED" }
            print(pad(row.plugin, 15) + pad(row.operation, 17) + pad(String(format: "%.0f", ops), 11, right: true) + "  "
                  + pad(row.reference.isEmpty ? "-" : row.reference, 32)
                  + pad(referenceOps.map { String(format: "%.0f", $0) } ?? "-", 10, right: true)
                  + pad(ratio.map { String(format: "%.1fx", $0) } ?? "-", 9, right: true)
                  + "  " + (row.goal.map { String(format: "≥%.0fx %@", $0, verdict) } ?? ""))
        }
    }

    static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let space = String(repeating: " ", count: max(0, width - text.count))
        return right ? space + text : text + space
    }

    /// reference.py, running beside the benchmark: it prints the shared inputs, then
    /// times its implementation of one case each time it is asked.
    final class ReferenceProcess {
        let process = Process()
        let input = Pipe(), output = Pipe()
        let inputs: Reference

        init(python: String, script: String) throws {
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = [script]
            process.standardInput = input
            process.standardOutput = output
            try process.run()
            let line = try Self.line(from: output.fileHandleForReading)
            do {
                inputs = try JSONDecoder().decode(Reference.self, from: Data(line.utf8))
            } catch {
                throw Failure(description: "reference.py did not start (pip install -r Tests/Vectors/requirements.txt): \(line.prefix(200))")
            }
        }

        deinit {
            try? input.fileHandleForWriting.close()
            process.waitUntilExit()
        }

        func rate(_ name: String, iterations: Int) throws -> Double {
            input.fileHandleForWriting.write(Data("\(name) \(iterations)\n".utf8))
            let line = try Self.line(from: output.fileHandleForReading)
            guard let value = Double(line) else { throw Failure(description: "reference.py answered \(line.prefix(200)) for \(name)") }
            return value
        }

        static func line(from handle: FileHandle) throws -> String {
            var bytes: [UInt8] = []
            while let chunk = try handle.read(upToCount: 1), let byte = chunk.first, byte != UInt8(ascii: "\n") {
                bytes.append(byte)
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// An SNS notification signed with the SES fixtures' test key, and a fetch
    /// cache already holding its certificate (the network is never touched).
    static func sesInputs() throws -> ([KeyValue], InboundWebhook, DocumentFetcher) {
        let certificates = packageRoot.appendingPathComponent("Sources/Providers/SES/Fixtures/certs")
        let certificate = try Data(contentsOf: certificates.appendingPathComponent("sns-fixture.pem"))
        let keyPEM = try Data(contentsOf: certificates.appendingPathComponent("sns-fixture.key"))
        guard let key = RSAPrivateKey(pem: Array(keyPEM)) else { throw Failure(description: "unreadable sns-fixture.key") }
        let url = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-bench.pem"
        let topic = "arn:aws:sns:us-east-1:123456789012:ses-events"
        let event = #"{"eventType":"Delivery","mail":{"timestamp":"2024-01-15T12:00:00.000Z","messageId":"0100-bench","destination":["ada@example.org"]},"delivery":{"timestamp":"2024-01-15T12:00:01.000Z","recipients":["ada@example.org"],"smtpResponse":"250 ok","processingTimeMillis":812}}"#
        let fields = [("Message", event), ("MessageId", "sns-bench"), ("Timestamp", "2024-01-15T12:00:02.000Z"),
                      ("TopicArn", topic), ("Type", "Notification")]
        guard let signature = key.sign(Array(fields.map { "\($0.0)\n\($0.1)\n" }.joined().utf8), digest: .sha256) else {
            throw Failure(description: "could not sign the SNS message")
        }
        var object = Dictionary(uniqueKeysWithValues: fields.map { ($0.0, JSONValue.string($0.1)) })
        object["SignatureVersion"] = .string("2")
        object["Signature"] = .string(Encoding.base64(signature))
        object["SigningCertURL"] = .string(url)
        let fetcher = DocumentFetcher(policy: FetchPolicy(allow: [url]), client: CurlHTTPClient())
        fetcher.store(Array(certificate), for: url)
        let config = [KeyValue("access_key_id", "AKIDEXAMPLE"), KeyValue("secret_access_key", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                      KeyValue("region", "us-east-1"), KeyValue("configuration_set", "ConfigSet"),
                      KeyValue("sns_topic_arns", "[\"\(topic)\"]")]
        return (config, InboundWebhook(headers: [KeyValue("x-amz-sns-message-type", "Notification")],
                                       body: Array(JSONValue.object(object).compactText.utf8)), fetcher)
    }
}
