import HTTPTypes
import Hummingbird
import NIOCore
import ProviderModel

/// One response, built by a provider's handler before Hummingbird sees it, so
/// that it can be stored for idempotent replay or thrown away by a fault.
struct Reply: Sendable {
    var status: Int
    var headers: [(String, String)] = []
    var body: [UInt8] = []

    static func json(_ status: Int, _ build: (inout JSONWriter) -> Void) -> Reply {
        var writer = JSONWriter(capacity: 256)
        build(&writer)
        return Reply(status: status, headers: [("content-type", "application/json")], body: writer.bytes)
    }

    static func text(_ status: Int, _ text: String, contentType: String = "text/plain; charset=utf-8") -> Reply {
        Reply(status: status, headers: [("content-type", contentType)], body: Array(text.utf8))
    }

    init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    init(_ stored: StoredResponse) {
        self.init(status: stored.status, headers: stored.headers, body: stored.body)
    }

    var stored: StoredResponse { StoredResponse(status: status, headers: headers, body: body) }

    func adding(_ extra: [(String, String)]) -> Reply {
        var copy = self
        copy.headers.append(contentsOf: extra)
        return copy
    }

    var response: Response {
        var fields = HTTPFields()
        for (name, value) in headers {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        return Response(status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// The request as a provider handler needs it: headers, body bytes and where it came in.
struct ReceivedRequest: Sendable {
    var method: String
    var path: String
    var query: String
    var headers: [KeyValue]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveEquals(name) }?.value
    }

    static func read(_ request: Request, context: SandboxContext) async throws -> ReceivedRequest {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        let target = request.uri.string
        let pathEnd = target.firstIndex(of: "?") ?? target.endIndex
        let query = pathEnd < target.endIndex ? String(target[target.index(after: pathEnd)...]) : ""
        // HTTP/1's Host header arrives as the :authority pseudo-header; signatures cover it as `host`.
        var headers = request.head.authority.map { [KeyValue("host", $0)] } ?? []
        headers.append(contentsOf: request.headers.map { KeyValue($0.name.rawName, $0.value) })
        return ReceivedRequest(
            method: request.method.rawValue, path: String(target[..<pathEnd]), query: query,
            headers: headers,
            body: Array(buffer.readableBytesView))
    }
}
