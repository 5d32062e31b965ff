import HTTPTypes
import Hummingbird
import NIOCore
import ProviderModel

/// Every failure the API answers, as `{"error":{"code","message","field"}}`.
/// `field` names the request part at fault (a JSON path, a header, a CSV line)
/// so that a client can show the user what to fix.
public struct APIError: HTTPResponseError, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var field: String?
    public var headers: [(HTTPField.Name, String)] = []

    public init(_ status: HTTPResponse.Status, code: String, _ message: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
    }

    public var description: String { "\(status.code) \(code): \(message)" + (field.map { " (\($0))" } ?? "") }

    /// `{"error":{"code","message","field"}}`, the body of every error answer.
    public var body: [UInt8] {
        var writer = JSONWriter(capacity: 128)
        writer.beginObject()
        writer.key("error")
        writer.beginObject()
        writer.member("code", code)
        writer.member("message", message)
        writer.key("field")
        if let field { writer.string(field) } else { writer.null() }
        writer.endObject()
        writer.endObject()
        return writer.bytes
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields: HTTPFields = [.contentType: "application/json"]
        for (name, value) in headers { fields[name] = value }
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    // The vocabulary, one constructor per kind of failure.
    public static func badRequest(_ message: String, field: String? = nil) -> APIError {
        APIError(.badRequest, code: "bad_request", message, field: field)
    }
    public static func invalid(_ field: String, _ message: String) -> APIError {
        APIError(.unprocessableContent, code: "invalid_field", message, field: field)
    }
    public static func notFound(_ what: String, field: String? = nil) -> APIError {
        APIError(.notFound, code: "not_found", "\(what) was not found", field: field)
    }
    public static func conflict(_ message: String, field: String? = nil) -> APIError {
        APIError(.conflict, code: "conflict", message, field: field)
    }
    public static func unauthorized(_ message: String) -> APIError {
        APIError(.unauthorized, code: "unauthorized", message, field: "Authorization")
    }
    public static func forbidden(_ message: String, field: String? = nil) -> APIError {
        APIError(.forbidden, code: "forbidden", message, field: field)
    }
    /// A path served with other methods: `Allow` names them.
    public static func methodNotAllowed(_ method: String, path: String, allowed: [String]) -> APIError {
        var error = APIError(.methodNotAllowed, code: "method_not_allowed", "\(method) is not served on \(path); it takes \(allowed.joined(separator: ", "))")
        error.headers = [(.allow, allowed.joined(separator: ", "))]
        return error
    }
    public static func timeout(_ message: String) -> APIError {
        APIError(.requestTimeout, code: "request_timeout", message, field: "body")
    }
    public static func tooLarge(_ message: String, field: String? = nil) -> APIError {
        APIError(.contentTooLarge, code: "too_large", message, field: field)
    }
    public static func unsupportedMediaType(_ expected: String) -> APIError {
        APIError(.unsupportedMediaType, code: "unsupported_media_type", "Content-Type must be \(expected)", field: "Content-Type")
    }
    public static func rateLimited(retryAfterSeconds: Int, scope: String) -> APIError {
        var error = APIError(.tooManyRequests, code: "rate_limited",
                             "too many requests for this \(scope); retry after \(retryAfterSeconds) s", field: nil)
        error.headers = [(.retryAfter, String(retryAfterSeconds))]
        return error
    }
    public static func unavailable(_ message: String) -> APIError {
        APIError(.serviceUnavailable, code: "unavailable", message)
    }
    /// Every pooled connection stayed held for as long as a request may wait: come back in a second.
    public static func busy() -> APIError {
        var error = APIError(.serviceUnavailable, code: "busy", "the server is busy; try again in a second")
        error.headers = [(.retryAfter, "1")]
        return error
    }
    public static func `internal`(_ message: String = "internal error; the server log has the details") -> APIError {
        APIError(.internalServerError, code: "internal", message)
    }
}
