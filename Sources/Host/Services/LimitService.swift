import HostCore
import Persistence
import ProviderModel

/// The deployment's sending limits as the operators change them live. A change is kept in PostgreSQL (and the
/// audit log) and written to the Redis hash every sender reads on every chunk, so it acts within one chunk's
/// round trip in every running process. Clearing an override goes back to the host config's limit.
package struct LimitService: Sendable {
    let database: Database
    package let buckets: RateBuckets

    package init(database: Database, buckets: RateBuckets) {
        self.database = database
        self.buckets = buckets
    }

    /// The live overrides (field → messages/s); 503 when Redis does not answer.
    package func overrides() async throws(APIError) -> [String: Int] {
        do { return try await buckets.overrides() } catch {
            throw APIError.unavailable("the live limits (Redis) are not reachable; try again")
        }
    }

    /// A live send-config (anyone's) by id; 404 when there is none.
    package func sendConfig(id: String) async throws(APIError) -> SendConfigRow {
        guard let row = try await database.run({ db in try SendConfigs.find(db, id: id) }), !row.deleted else {
            throw APIError.notFound("send-config", field: "path.id")
        }
        return row
    }

    package func set(field: String, perSecond limit: Int) async throws(APIError) {
        try await database.transaction { db in
            try RateLimitOverrideTable.set(db, field: field, perSecond: limit)
            try AuditLog.record(db, userID: nil, action: "limit.set", subject: "rate_limit", id: field, detail: #"{"perSecond":\#(limit)}"#)
        }
        try await publish([field: limit])
    }

    package func clear(field: String) async throws(APIError) {
        try await database.transaction { db in
            try RateLimitOverrideTable.delete(db, field: field)
            try AuditLog.record(db, userID: nil, action: "limit.cleared", subject: "rate_limit", id: field)
        }
        try await publish([field: nil])
    }

    /// Puts the stored overrides back into Redis (after a Redis that lost its data, say).
    package func restore() async throws {
        let stored = try await database.pool.withConnection { db in try RateLimitOverrideTable.all(db) }
        try await buckets.replaceOverrides(stored)
    }

    private func publish(_ changes: [String: Int?]) async throws(APIError) {
        do { try await buckets.setOverrides(changes) } catch {
            // Stored, not yet live: the API puts the stored overrides back into Redis when it starts.
            throw APIError.unavailable("the change is stored but Redis did not take it, so senders do not see it yet; send it again")
        }
    }
}
