import Domain
import HostCore
import Messaging
import NIOPosix
import Persistence
import ProviderModel

/// The work queue as a sender (`/api/queue`, their own) or an operator (`/admin/queue`, every tenant) sees it: each
/// batch on its way with its pending recipients, how many of them wait after a transient failure, whether it is
/// paused, and when its chunks handed back (rate limits, backoff, a pause) are due again; the single messages
/// not yet sent; and the JetStream consumers' backlogs (the caller's own, or all). Read from the rows, the hot
/// counters and JetStream, nothing counted per recipient beyond `Batches.queueCountCap`.
package struct QueueService: Sendable {
    let database: Database
    let delivery: DeliveryState
    let jetStream: APIJetStream
    let threads: NIOThreadPool
    let clock: any WallClock

    /// The most batches a view lists (oldest first).
    package static let limit = 500

    package init(database: Database, delivery: DeliveryState, jetStream: APIJetStream, threads: NIOThreadPool, clock: any WallClock = SystemClock()) {
        self.database = database
        self.delivery = delivery
        self.jetStream = jetStream
        self.threads = threads
        self.clock = clock
    }

    /// `userID`'s queue, or every tenant's when nil.
    package func view(userID: String?) async throws(APIError) -> String {
        let (rows, messages) = try await database.run { db in
            (try Batches.queue(db, userID: userID, limit: Self.limit), try Batches.messagesWaiting(db, userID: userID))
        }
        let counters: [String: BatchCounters]
        do { counters = try await delivery.counters(rows.map(\.id)) } catch {
            throw APIError.unavailable("Redis is unreachable; retry shortly")
        }
        let now = clock.nowMilliseconds
        var batches: [JSONValue] = []
        for row in rows {
            guard case .object(var batch) = try JSONFields.document(Array(row.json.utf8)) else { continue }
            let due = Int64(counters[row.id]?.dueMs ?? 0)
            batch["nextDueAt"] = due > now ? .string(ISO8601.extendedUTC(milliseconds: due)) : .null
            if userID != nil { batch["userId"] = nil }
            batches.append(.object(batch))
        }
        var view: [String: JSONValue] = ["batches": .array(batches), "messages": .object(["waiting": .number(Double(messages))])]
        // JetStream away leaves the rest readable: its part is null.
        // A sender's view asks for their own consumer only; an operator's lists the stream's.
        let jetStream = self.jetStream
        let backlogs: [(name: String, pending: UInt64, unacked: Int64)]? = try? await threads.runIfActive {
            guard let userID else { return try jetStream.backlogs() }
            let name = Streams.tenantConsumer(userID: userID, ackWaitMs: 0).durable
            return try jetStream.backlog(consumer: name).map { [(name, $0.pending, $0.unacked)] } ?? []
        }
        view["consumers"] = backlogs.map { all in
            .array(all.map { .object(["name": .string($0.name), "backlog": .number(Double($0.pending)), "inFlight": .number(Double(max(0, $0.unacked)))]) })
        } ?? .null
        return JSONValue.object(view).compactText
    }
}
