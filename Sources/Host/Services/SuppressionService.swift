import Persistence

/// Addresses a user never sends to again. Recipients uploaded later with a suppressed address are stored
/// as `suppressed`; the pipeline skips addresses suppressed after their upload.
package struct SuppressionService: Sendable {
    /// The reason, and the source, of an address its recipient unsubscribed (`UnsubscribeService`).
    package static let unsubscribed = "unsubscribe"
    package static let reasons: Set<String> = ["manual", "bounce", "complaint", unsubscribed]
    let database: Database

    package init(database: Database) { self.database = database }

    /// Adds (or re-reasons) a suppression through the API: its JSON, and whether it is new.
    package func add(userID: String, address: String, reason: String) async throws(APIError) -> (json: String, created: Bool) {
        try await database.transaction { db in
            let row = try Suppressions.upsert(db, userID: userID, address: address, reason: reason, source: "api")
            try AuditLog.record(db, userID: userID, action: "suppression.added", subject: "suppression", id: address)
            return row
        }
    }

    package func list(userID: String, after cursor: String?, limit: Int) async throws(APIError) -> (rows: [String], next: String?) {
        try await database.run { db in try Suppressions.page(db, userID: userID, after: cursor, limit: limit) }
    }

    /// 404 when the address was not suppressed.
    package func remove(userID: String, address: String) async throws(APIError) {
        let removed = try await database.transaction { db in
            let removed = try Suppressions.delete(db, userID: userID, address: address)
            if removed { try AuditLog.record(db, userID: userID, action: "suppression.removed", subject: "suppression", id: address) }
            return removed
        }
        guard removed else { throw APIError.notFound("suppression of \(address)", field: "query.address") }
    }
}
