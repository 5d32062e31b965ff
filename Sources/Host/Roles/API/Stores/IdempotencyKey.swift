import Domain
import HTTPTypes
import HostCore
import Hummingbird
import Messaging
import Persistence
import ProviderCrypto
import ProviderInstances
import ProviderModel

/// A request's `Idempotency-Key` (on `POST /api/batches` and `POST /api/batches/{id}/send`): a client
/// that lost an answer sends the same request with the same key and gets the first request's result
/// instead of a second batch or a 409. The key is claimed inside the transaction that does the work, so
/// two requests with one key are ordered by its primary key: the second waits, then replays. A key
/// names one request (route and body); reused for another, it is a 409, as on `POST /api/messages`
/// (whose key lives on the message's own row). Keys are kept 24 hours.
struct IdempotencyKey: Sendable {

    let value: String
    let route: String
    let fingerprint: String

    /// The request's key, when it has one.
    static func from(_ request: Request, route: String, fingerprint: [UInt8]) throws(APIError) -> IdempotencyKey? {
        guard let value = try header(request) else { return nil }
        return IdempotencyKey(value: value, route: route, fingerprint: Encoding.hex(fingerprint))
    }

    static let headerName = HTTPField.Name("Idempotency-Key")!

    /// The header's value: 1–255 printable ASCII characters, as the providers take them.
    static func header(_ request: Request) throws(APIError) -> String? {
        guard let value = request.headers[headerName] else { return nil }
        guard (1...255).contains(value.utf8.count), value.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw APIError.invalid("header.Idempotency-Key", "must be 1 to 255 printable ASCII characters without spaces")
        }
        return value
    }

    enum Claim: Equatable {
        /// The work is this request's to do.
        case claimed
        /// An earlier request with this key did it: its resource.
        case done(resourceID: String)
    }

    /// Claims the key for `resource` in the caller's open transaction.
    func claim(_ db: PostgresConnection, userID: String, resource: String) throws -> Claim {
        let claimed = try db.query("""
            INSERT INTO idempotency_keys (user_id, key, route, fingerprint, resource_id) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (user_id, key) DO UPDATE SET route = EXCLUDED.route, fingerprint = EXCLUDED.fingerprint,
                   resource_id = EXCLUDED.resource_id, created_at = now()
            WHERE idempotency_keys.created_at < now() - interval '24 hours'
            RETURNING 1
            """, [userID, value, route, fingerprint, resource])
        if !claimed.isEmpty { return .claimed }
        guard let row = try db.query("SELECT route, fingerprint, resource_id FROM idempotency_keys WHERE user_id = $1 AND key = $2",
                                     [userID, value]).first else {
            throw APIError.conflict("a request with this Idempotency-Key was just undone; send it again", field: "header.Idempotency-Key")
        }
        guard row[0] == route, row[1] == fingerprint else {
            throw APIError.conflict("this Idempotency-Key was used for another request (\(row[0] ?? "")) in the last 24 hours; use a new key",
                                    field: "header.Idempotency-Key")
        }
        return .done(resourceID: row[2] ?? "")
    }
}
