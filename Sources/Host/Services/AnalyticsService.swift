import Analytics
import Logging
import Persistence

/// What a user's events add up to, read from ClickHouse's summed views. Without a `CLICKHOUSE_URL` every
/// read is a 503 saying so.
package struct AnalyticsService: Sendable {
    let database: Database
    let store: AnalyticsStore?
    let logger: Logger

    package init(database: Database, store: AnalyticsStore?, logger: Logger) {
        self.database = database
        self.store = store
        self.logger = logger
    }

    package func overview(userID: String, fromSec: Int64, toSec: Int64, sendConfigID: String?) async throws(APIError) -> AnalyticsStore.Counts {
        let store = try available()
        return try await read { () async throws(ClickHouseError) in
            try await store.overview(userID: userID, fromSec: fromSec, toSec: toSec, sendConfigID: sendConfigID)
        }
    }

    package func timeseries(userID: String, interval: AnalyticsStore.Interval, fromSec: Int64, toSec: Int64,
                            sendConfigID: String?) async throws(APIError) -> [Int64: AnalyticsStore.Counts] {
        let store = try available()
        return try await read { () async throws(ClickHouseError) in
            try await store.timeseries(userID: userID, interval: interval, fromSec: fromSec, toSec: toSec, sendConfigID: sendConfigID)
        }
    }

    /// One batch's counts; 404 when the user has no such batch.
    package func batch(userID: String, batchID: String) async throws(APIError) -> AnalyticsStore.Counts {
        guard try await database.run({ db in try Batches.exists(db, userID: userID, id: batchID) }) else {
            throw APIError.notFound("batch \(batchID)", field: "path.id")
        }
        let store = try available()
        return try await read { () async throws(ClickHouseError) in try await store.batch(userID: userID, batchID: batchID) }
    }

    /// 503 when this server has no analytics store: checked before anything else a request says.
    package func requireConfigured() throws(APIError) { _ = try available() }

    private func available() throws(APIError) -> AnalyticsStore {
        guard let store else { throw APIError.unavailable("analytics are not configured on this server: it has no CLICKHOUSE_URL") }
        return store
    }

    private func read<T>(_ body: () async throws(ClickHouseError) -> T) async throws(APIError) -> T {
        do { return try await body() } catch where error.message.contains("Code: 60,") {
            // No event was ever written here, so no writer made the tables yet: make them, and the answer is zeros.
            do {
                try await store?.createSchema()
                return try await body()
            } catch { throw refusal(error) }
        } catch { throw refusal(error) }
    }

    private func refusal(_ error: ClickHouseError) -> APIError {
        logger.warning("the analytics store did not answer", metadata: ["error": "\(error)"])
        guard error.kind == .unreachable else { return APIError.internal() }
        var refusal = APIError.unavailable("the analytics store is not answering; try again shortly")
        refusal.headers = [(.retryAfter, "5")]
        return refusal
    }
}
