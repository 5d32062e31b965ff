import Foundation
import ProviderModel

/// What the benchmark takes from a provider's conformance fixtures
/// (docs/conformance.md): its valid config, the host clock, the base message,
/// the documents its webhooks need, and one signed webhook that verifies.
struct BenchmarkFixtures {
    struct Manifest: Decodable {
        var nowMs: Int64
        var config: [String: JSONValue]
        var message: OutboundMessage
        /// URL → file in the fixtures folder (signing certificates).
        var documents: [String: String]?

        enum CodingKeys: String, CodingKey {
            case config, message, documents
            case nowMs = "now_ms"
        }
    }

    struct WebhookCase: Decodable {
        struct Request: Decodable {
            var method: String?
            var path: String?
            var headers: [String: String]
            var body: String
        }

        var request: Request
        var verify: String
    }

    /// A fixture answer of `responses/`: the provider's HTTP answer to a request of `messages` messages.
    struct AnswerCase: Decodable {
        /// An answer the provider gave (a transport failure has no status, and accepts nothing to time).
        struct Response: Decodable {
            var status: Int?
            var headers: [String: String]?
            var body: String?
            var bodyBase64: String?

            enum CodingKeys: String, CodingKey {
                case status, headers, body
                case bodyBase64 = "body_base64"
            }
        }

        var messages: Int
        var response: Response
    }

    let nowMs: Int64
    let config: [KeyValue]
    let message: OutboundMessage
    let documents: [String: [UInt8]]
    let webhook: InboundWebhook
    /// The answer interpret is timed on, with the messages of the request it answers; nil when the provider names none.
    let answer: (result: HTTPResult, messages: [OutboundMessage])?

    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    private static func read(_ file: URL) throws -> Data {
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw Problem(description: "cannot read \(file.path); run from the package folder or pass --providers")
        }
        return data
    }

    /// Reads `folder/fixtures.json`, `folder/webhooks/<webhookFile>`, which must be a webhook that verifies, and
    /// `folder/responses/<answerFile>`.
    init(folder: URL, webhookFile: String, answerFile: String? = nil) throws {
        let decoder = JSONDecoder()
        let manifest = try decoder.decode(Manifest.self, from: Self.read(folder.appendingPathComponent("fixtures.json")))
        let webhookCase = try decoder.decode(
            WebhookCase.self, from: Self.read(folder.appendingPathComponent("webhooks").appendingPathComponent(webhookFile)))
        guard webhookCase.verify == "ok" else {
            throw Problem(description: "\(folder.path)/webhooks/\(webhookFile) does not verify (\"verify\": \"\(webhookCase.verify)\"); the benchmark times a webhook that does")
        }
        nowMs = manifest.nowMs
        config = try PluginConfiguration.entries(fromJSON: manifest.config)
        message = manifest.message
        documents = try (manifest.documents ?? [:]).mapValues { file in
            try Array(Self.read(folder.appendingPathComponent(file)))
        }
        let request = webhookCase.request
        webhook = InboundWebhook(
            method: request.method ?? "POST", path: request.path ?? "/",
            headers: request.headers.sorted { $0.key < $1.key }.map { KeyValue($0.key, $0.value) },
            body: Array(request.body.utf8))
        answer = try answerFile.map { file in
            let path = folder.appendingPathComponent("responses").appendingPathComponent(file)
            let answer = try decoder.decode(AnswerCase.self, from: Self.read(path))
            let response = answer.response
            let body: [UInt8]? = response.body.map { Array($0.utf8) } ?? response.bodyBase64.flatMap { Data(base64Encoded: $0) }.map { Array($0) }
            guard let status = response.status, let body else {
                throw Problem(description: "\(path.path): the benchmark times an answer with a status and a body (or body_base64)")
            }
            let result = HTTPResult(status: status, headers: (response.headers ?? [:]).sorted { $0.key < $1.key }.map { KeyValue($0.key, $0.value) },
                                    body: body)
            let base = manifest.message
            return (result, (0..<answer.messages).map { index in
                var copy = base
                copy.id = "\(base.id)_\(index)"
                copy.idempotencyKey = copy.id
                return copy
            })
        }
    }
}
