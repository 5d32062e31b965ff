import Foundation
import Hummingbird
import NIOCore

/// Reading what a request carries: a JSON body (size- and type-checked), path ids, query values.
enum RequestInput {
    /// The body of a JSON request, at most the context's upload size; 415 for another content type.
    static func jsonBody(_ request: Request, context: APIContext, limit: Int? = nil) async throws(APIError) -> [UInt8] {
        try requireContentType(request, "application/json")
        return try await collect(request, limit: limit ?? context.maxUploadSize)
    }

    static func collect(_ request: Request, limit: Int) async throws(APIError) -> [UInt8] {
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            // NIO's `collect(upTo:)` says "too large" this way; the server's own limit as an HTTPError.
            throw APIError.tooLarge("the body is larger than \(limit) bytes", field: "body")
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError.tooLarge("the body is larger than \(limit) bytes", field: "body")
        } catch {
            throw APIError.badRequest("the body could not be read: \(error)", field: "body")
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

    /// `?limit=` between 1 and `max` (default `fallback`).
    static func limit(_ request: Request, fallback: Int = 50, max: Int = 500) throws(APIError) -> Int {
        guard let text = request.uri.queryParameters.get("limit") else { return fallback }
        guard let value = Int(text), (1...max).contains(value) else {
            throw APIError.invalid("query.limit", "must be an integer from 1 to \(max)")
        }
        return value
    }
}
