import Foundation
import Hummingbird
import NIOCore
import ProviderModel
import Services

/// Reading what a request carries: a JSON body (size- and type-checked), path ids, query values.
enum RequestInput {
    /// The body of a JSON request, at most the context's upload size; 415 for another content type.
    static func jsonBody(_ request: Request, context: APIContext, limit: Int? = nil) async throws(APIError) -> [UInt8] {
        try requireContentType(request, "application/json")
        return try await collect(request, context: context, limit: limit ?? context.maxUploadSize)
    }

    /// The whole body, at most `limit` bytes, within the context's body timeout.
    static func collect(_ request: Request, context: APIContext, limit: Int) async throws(APIError) -> [UInt8] {
        let body = request.body
        do {
            return try await BodyDeadline.within(context.bodyTimeout) { Array(try await body.collect(upTo: limit).readableBytesView) }
        } catch where error.status == .contentTooLarge {
            // NIO's `collect(upTo:)` and the server's own limit say "too large" in their own ways.
            throw APIError.tooLarge("the body is larger than \(limit) bytes", field: "body")
        }
    }

    static func requireContentType(_ request: Request, _ expected: String) throws(APIError) {
        guard mediaType(request) == expected else { throw APIError.unsupportedMediaType(expected) }
    }

    /// `text/csv` of `text/csv; charset=utf-8`, lowercased; "" when absent.
    static func mediaType(_ request: Request) -> String {
        let value = request.headers[.contentType] ?? ""
        return value.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
    }

    /// The path parameter `name` as a UUID; anything else cannot name a stored object, so it is a 404.
    static func id(_ context: APIContext, _ name: String = "id", what: String) throws(APIError) -> String {
        guard let text = context.parameters.get(name), let uuid = UUID(uuidString: text) else {
            throw APIError.notFound(what, field: "path.\(name)")
        }
        return uuid.uuidString.lowercased()
    }

    /// `?cursor=` of a listing ordered by id (a batch's, a template's): the id, lower-cased; 422 when it is not one.
    static func idCursor(_ request: Request) throws(APIError) -> String? {
        try request.uri.queryParameters.get("cursor").map { text throws(APIError) in
            guard let uuid = UUID(uuidString: text) else { throw APIError.invalid("query.cursor", "is not a cursor this listing gave") }
            return uuid.uuidString.lowercased()
        }
    }

    /// `?limit=` between 1 and `max` (default `fallback`).
    static func limit(_ request: Request, fallback: Int = 50, max: Int = 500) throws(APIError) -> Int {
        guard let text = request.uri.queryParameters.get("limit") else { return fallback }
        return Int(try integer(text, field: "query.limit", in: 1...Int64(max)))
    }

    /// A whole number from a query or path value, read with bounds (ProviderModel's BoundedInteger):
    /// INT64_MIN, thirty digits or `1.5` is a 422 naming `field`, never a trap or a wrapped value.
    static func integer(_ text: some StringProtocol, field: String, in range: ClosedRange<Int64>) throws(APIError) -> Int64 {
        do { return try BoundedInteger.parse(text, in: range) } catch {
            throw APIError.invalid(field, "must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
    }
}
