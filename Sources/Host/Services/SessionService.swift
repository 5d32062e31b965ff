import HostCore
import Persistence
import ProviderCrypto

/// Dashboard sessions. The browser holds a random token; the table holds only its SHA-256, so a copy of
/// the database signs no one in. A session lasts `lifetimeHours` from sign-in; signing out deletes it.
package struct SessionService: Sendable {
    package static let lifetimeHours = 12
    let database: Database

    package init(database: Database) { self.database = database }

    /// A fresh random token, hex: 32 bytes for a session, 16 for a CSRF token.
    package static func token(bytes: Int = 32) -> String {
        Encoding.hex(SecureRandom.bytes(bytes) ?? [])
    }

    static func hashHex(_ token: String) -> String { Encoding.hex(Digest.sha256(Array(token.utf8))) }

    /// A new session for `userID`: the token for the cookie.
    package func create(userID: String) async throws(APIError) -> String {
        let token = Self.token()
        let hash = Self.hashHex(token), csrf = Self.token(bytes: 16)
        try await database.run { db in
            try WebSessions.create(db, tokenHashHex: hash, userID: userID, csrfToken: csrf, lifetimeHours: Self.lifetimeHours)
        }
        return token
    }

    /// The live session the token names, or nil.
    package func find(token: String) async throws(APIError) -> Session? {
        guard token.count == 64, token.allSatisfy(\.isHexDigit) else { return nil }
        let hash = Self.hashHex(token)
        return try await database.run { db in try WebSessions.find(db, tokenHashHex: hash) }
            .map { Session(userID: $0.userID, email: $0.email, csrfToken: $0.csrfToken) }
    }

    package func delete(token: String) async throws(APIError) {
        let hash = Self.hashHex(token)
        try await database.run { db in try WebSessions.delete(db, tokenHashHex: hash) }
    }
}
