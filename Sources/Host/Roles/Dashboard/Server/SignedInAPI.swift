import HTTPTypes
import Hummingbird
import NIOCore
import ProviderModel
import SenderAPI
import Services

/// The sender API's user routes asked in process, as the signed-in user: every page reads and changes
/// what the API would, with the API's checks and its error messages (field and reason), and nothing is
/// written twice.
struct SignedInAPI: Sendable {
    let responder: RouterResponder<APIContext>

    /// The API's answer: its status and JSON body (null when it had none).
    struct Answer: Sendable {
        var status: HTTPResponse.Status
        var json: JSONValue

        var ok: Bool { (200..<300).contains(status.code) }
        /// What went wrong, as the API said it: the reason, and the field at fault when it named one.
        var problem: String {
            let message = json["error"]?["message"]?.stringValue ?? json["message"]?.stringValue ?? status.reasonPhrase
            guard let field = json["error"]?["field"]?.stringValue ?? json["field"]?.stringValue else { return message }
            return "\(field): \(message)"
        }
        var data: [JSONValue] { json["data"]?.arrayValue ?? [] }

        /// The object answered, or the page's refusal: "There is no such `what`" for a 404, the API's reason otherwise.
        func found(_ what: String) throws -> JSONValue {
            guard ok else {
                if status == .notFound { throw WebRefusal.refused(.notFound, "There is no such \(what).") }
                throw WebRefusal.refused(status, problem)
            }
            return json
        }
    }

    func call(_ method: HTTPRequest.Method, _ path: String, json: JSONValue? = nil, context: WebContext) async throws -> Answer {
        var headers: HTTPFields = [:]
        if json != nil { headers[.contentType] = "application/json" }
        let body = json.map { RequestBody(buffer: ByteBuffer(bytes: $0.compactBytes)) } ?? RequestBody(buffer: ByteBuffer())
        return try await send(method, path, headers: headers, body: body, context: context)
    }

    /// A body passed through as it streams in (a CSV upload), with its content type.
    func send(_ method: HTTPRequest.Method, _ path: String, headers: HTTPFields, body: RequestBody, context: WebContext) async throws -> Answer {
        let user = try context.user()
        let head = HTTPRequest(method: method, scheme: "http", authority: "dashboard", path: path, headerFields: headers)
        var apiContext = APIContext(source: context.source)
        apiContext.identity = Identity(userID: user.userID, keyID: "dashboard")
        let response = try await responder.respond(to: Request(head: head, body: body), context: apiContext)
        let collector = BodyCollector()
        try await response.body.write(collector)
        let bytes = collector.bytes
        return Answer(status: response.status, json: bytes.isEmpty ? .null : (JSONValue.parse(bytes) ?? .null))
    }
}

/// Gathers a response body written by the API's routes.
private final class BodyCollector: ResponseBodyWriter, @unchecked Sendable {
    // Written by one task, in order, then read once it is done.
    private(set) var bytes: [UInt8] = []
    func write(_ buffer: ByteBuffer) async throws { bytes += buffer.readableBytesView }
    func finish(_ headers: HTTPFields?) async throws {}
}
