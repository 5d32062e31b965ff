import HostCore
import Persistence
import ProviderCrypto

/// A request's `Idempotency-Key` (on `POST /api/batches`, `POST /api/batches/{id}/send` and
/// `POST /api/messages`): a client that lost an answer sends the same request with the same key and gets
/// the first request's result instead of a second batch or message. The key is claimed inside the
/// transaction that does the work, so two requests with one key are ordered by its primary key: the second
/// waits, then replays. A key names one request (route and body); reused for another, it is a 409. Keys
/// are kept 24 hours.
package struct IdempotencyKey: Sendable {
    package let value: String
    package let route: String
    package let fingerprint: String

    package init(value: String, route: String, fingerprint: [UInt8]) {
        self.value = value
        self.route = route
        self.fingerprint = Encoding.hex(fingerprint)
    }
}

package enum IdempotencyService {
    package enum Claim: Equatable {
        /// The work is this request's to do.
        case claimed
        /// An earlier request with this key did it: its resource.
        case done(resourceID: String)
    }

    /// Claims the key for `resource` in the caller's open transaction.
    package static func claim(_ key: IdempotencyKey, _ db: PostgresConnection, userID: String, resource: String) throws -> Claim {
        if try IdempotencyKeyTable.claim(db, userID: userID, key: key.value, route: key.route, fingerprint: key.fingerprint, resourceID: resource) {
            return .claimed
        }
        guard let row = try IdempotencyKeyTable.find(db, userID: userID, key: key.value) else {
            throw APIError.conflict("a request with this Idempotency-Key was just undone; send it again", field: "header.Idempotency-Key")
        }
        guard row.route == key.route, row.fingerprint == key.fingerprint else {
            throw APIError.conflict("this Idempotency-Key was used for another request (\(row.route)) in the last 24 hours; use a new key",
                                    field: "header.Idempotency-Key")
        }
        return .done(resourceID: row.resourceID)
    }
}
