import Persistence

/// Users' API keys: made (shown once), listed, revoked, and checked on every API request.
package struct APIKeyService: Sendable {
    let database: Database

    package init(database: Database) { self.database = database }

    /// A new key of the user's as JSON, with the key itself in `key`.
    package func create(userID: String, name: String) async throws(APIError) -> String {
        try await database.transaction { db in try Self.create(db, userID: userID, name: name) }
    }

    static func create(_ db: PostgresConnection, userID: String, name: String) throws -> String {
        let minted = try APIKeyToken.mint()
        let json = try APIKeys.insert(db, userID: userID, name: name, prefix: minted.prefix, hashHex: minted.hashHex, key: minted.key)
        try AuditLog.record(db, userID: userID, action: "api_key.created", subject: "api_key", id: nil)
        return json
    }

    /// `batchsender apikey create`: the user (made if new) and a new key of theirs, in one transaction.
    package func create(email: String, name: String) async throws(APIError) -> String {
        try await database.transaction { db in try Self.create(db, userID: try Users.ensure(db, email: email), name: name) }
    }

    /// The same on a connection of the caller's (the command line's, a test's).
    package static func create(_ db: PostgresConnection, email: String, name: String) throws -> String {
        try db.inTransaction { try create(db, userID: try Users.ensure(db, email: email), name: name) }
    }

    package func list(userID: String) async throws(APIError) -> [String] {
        try await database.run { db in try APIKeys.list(db, userID: userID) }
    }

    /// Revokes a live key of the user's; 404 when there is none.
    package func revoke(userID: String, keyID: String) async throws(APIError) {
        let revoked = try await database.transaction { db in
            let revoked = try APIKeys.revoke(db, userID: userID, keyID: keyID)
            if revoked { try AuditLog.record(db, userID: userID, action: "api_key.revoked", subject: "api_key", id: keyID) }
            return revoked
        }
        guard revoked else { throw APIError.notFound("API key \(keyID)", field: "path.id") }
    }

    /// The owner of a live key, or nil (a key of the wrong shape costs no database round trip).
    package func authenticate(key: String) async throws(APIError) -> Identity? {
        guard APIKeyToken.looksValid(key) else { return nil }
        let hash = APIKeyToken.hashHex(key)
        return try await database.run { db in try APIKeys.authenticate(db, hashHex: hash) }.map { Identity(userID: $0.userID, keyID: $0.keyID) }
    }
}
