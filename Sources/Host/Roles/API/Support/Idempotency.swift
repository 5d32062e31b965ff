import HTTPTypes
import Hummingbird
import Services

/// The `Idempotency-Key` header, read from a request for the services that honour it.
enum Idempotency {
    static let headerName = HTTPField.Name("Idempotency-Key")!

    /// The header's value: 1–255 printable ASCII characters, as the providers take them.
    static func header(_ request: Request) throws(APIError) -> String? {
        guard let value = request.headers[headerName] else { return nil }
        guard (1...255).contains(value.utf8.count), value.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw APIError.invalid("header.Idempotency-Key", "must be 1 to 255 printable ASCII characters without spaces")
        }
        return value
    }

    /// The request's key for `route`, bound to `fingerprint` (what makes it the same request), when it has one.
    static func key(_ request: Request, route: String, fingerprint: [UInt8]) throws(APIError) -> IdempotencyKey? {
        guard let value = try header(request) else { return nil }
        return IdempotencyKey(value: value, route: route, fingerprint: fingerprint)
    }
}
