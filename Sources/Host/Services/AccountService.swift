import Persistence

/// Users' passwords for the dashboard. Hashing is the caller's (it is slow on purpose and runs off the
/// cooperative pool); this stores and reads the encoded hashes.
package struct AccountService: Sendable {
    let database: Database

    package init(database: Database) { self.database = database }

    /// A new user with a password: nil when the address is taken (by a user with or without a password).
    package func register(email: String, passwordHash: String) async throws(APIError) -> String? {
        try await database.run { db in try Users.register(db, email: email, passwordHash: passwordHash) }
    }

    /// The user's id and password hash (nil when none was set), or nil for an unknown address.
    package func credentials(email: String) async throws(APIError) -> (userID: String, hash: String?)? {
        try await database.run { db in try Users.credentials(db, email: email) }
    }

    /// `batchsender apikey password`: sets the password of the user with `email`, made if new. Every
    /// session of theirs ends, so a changed password signs out whoever knew the old one.
    package func setPassword(email: String, passwordHash: String) async throws(APIError) {
        try await database.transaction { db in try Self.setPassword(db, email: email, passwordHash: passwordHash) }
    }

    /// The same on a connection of the caller's (the command line's, a test's).
    package static func setPassword(_ db: PostgresConnection, email: String, passwordHash: String) throws {
        let userID = try Users.ensure(db, email: email)
        try Users.setPassword(db, userID: userID, passwordHash: passwordHash)
        try WebSessions.deleteAll(db, userID: userID)
    }
}
