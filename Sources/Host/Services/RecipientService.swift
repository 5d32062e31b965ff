import Domain
import Persistence
import ProviderModel

/// A batch's recipients: stored from uploads (all or nothing per upload), listed, and one recipient's history.
package struct RecipientService: Sendable {
    let database: Database
    /// `[api] max_recipients_per_batch`.
    let maxRecipients: Int

    package init(database: Database, maxRecipients: Int) {
        self.database = database
        self.maxRecipients = maxRecipients
    }

    /// An upload read and checked already, waiting in a spool as COPY text (line, address, variables).
    package struct Spooled: Sendable {
        package var rows: Int
        package var channel: Channel
        /// Hands each piece of the spooled text to the function it is given.
        package var feed: @Sendable ((UnsafeRawBufferPointer) throws -> Void) throws -> Void

        package init(rows: Int, channel: Channel, feed: @escaping @Sendable ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) {
            self.rows = rows
            self.channel = channel
            self.feed = feed
        }
    }

    /// Where an upload goes: the batch, its owner and the channel its addresses were checked for.
    package struct Target: Sendable {
        package var batchID: String
        package var userID: String
        package var channel: Channel
        /// The work was already done by an earlier request with the same `Idempotency-Key`: this batch is
        /// that request's, and nothing is stored.
        package var replay = false
    }

    package struct Result: Sendable {
        package var received: Int
        package var accepted: Int
        package var suppressed: Int
        package var total: Int
        package var duplicates: Int { received - accepted }

        package var json: JSONValue {
            .object(["received": .number(Double(received)), "accepted": .number(Double(accepted)),
                     "duplicates": .number(Double(duplicates)), RecipientStatus.suppressed.rawValue: .number(Double(suppressed)),
                     "total": .number(Double(total))])
        }
    }

    /// The draft batch of the user's that takes recipients: its channel, so that an upload is checked for it as
    /// it arrives (the merge checks again under the batch's lock). 404, or 409 when it is no draft.
    package func draftChannel(userID: String, batchID: String) async throws(APIError) -> Channel {
        try await database.run { db in try Self.draft(db, userID: userID, batchID: batchID) }.channel
    }

    private static func draft(_ db: PostgresConnection, userID: String, batchID: String) throws -> Target {
        guard let batch = try Batches.state(db, userID: userID, id: batchID) else { throw APIError.notFound("batch \(batchID)", field: "path.id") }
        guard batch.status == .draft else {
            throw APIError.conflict("the batch is \(batch.status.rawValue); recipients can only be added to a draft", field: "path.id")
        }
        return Target(batchID: batchID, userID: userID, channel: batch.channel)
    }

    /// Adds an upload to a draft of the user's.
    package func add(userID: String, batchID: String, _ upload: Spooled) async throws(APIError) -> Result {
        try await commit(upload) { db in try Self.draft(db, userID: userID, batchID: batchID) }.1
    }

    /// Stores an upload in one short transaction: the rows go to PostgreSQL with COPY into a staging table and
    /// are merged in one statement that drops duplicates, marks suppressed addresses and numbers the rest in
    /// upload order. `open` runs first: it finds (or creates) the batch and checks it takes recipients, without
    /// locking it, so that several chunks for one batch stream and merge at once. The batch's row is locked
    /// only by the last statement, which adds to its counters and checks again that it is a draft with room.
    func commit(_ upload: Spooled, open: @escaping @Sendable (PostgresConnection) throws -> Target) async throws(APIError) -> (Target, Result) {
        let maxRecipients = self.maxRecipients
        do {
            return try await database.pool.withConnection { db in
                try db.begin()
                do {
                    let target = try open(db)
                    if target.replay {
                        db.rollback()
                        return (target, Result(received: 0, accepted: 0, suppressed: 0, total: 0))
                    }
                    guard target.channel == upload.channel else {
                        throw APIError.conflict("the send-config changed channel while the upload arrived; nothing was stored, send it again")
                    }
                    try Recipients.stage(db, upload.feed)
                    let merged = try Recipients.mergeStaged(db, batchID: target.batchID, userID: target.userID)
                    // Concurrent chunks add up one after another here, and a batch sent or cancelled meanwhile turns
                    // this chunk away whole.
                    guard let total = try Batches.addRecipients(db, id: target.batchID, accepted: merged.accepted,
                                                                duplicates: upload.rows - merged.accepted, suppressed: merged.suppressed) else {
                        let status = try Batches.status(db, id: target.batchID)
                        throw APIError.conflict("the batch is \(status?.rawValue ?? "gone") now; recipients can only be added to a draft, and nothing in this upload was stored",
                                                field: "path.id")
                    }
                    guard total <= maxRecipients else {
                        throw APIError.tooLarge("the batch would hold \(total) recipients; a batch holds at most \(maxRecipients)", field: "body")
                    }
                    try db.commit()
                    return (target, Result(received: upload.rows, accepted: merged.accepted, suppressed: merged.suppressed, total: total))
                } catch {
                    // Whatever was sent is discarded.
                    db.rollback()
                    throw error
                }
            }
        } catch {
            throw database.translate(error)
        }
    }

    /// A page of the batch's recipients (404 when the user has no such batch).
    package func list(userID: String, batchID: String, status: RecipientStatus?, after cursor: Int64,
                      limit: Int) async throws(APIError) -> (rows: [String], next: String?) {
        try await database.run { db in
            guard try Batches.exists(db, userID: userID, id: batchID) else { throw APIError.notFound("batch \(batchID)", field: "path.id") }
            return try Recipients.page(db, batchID: batchID, status: status, after: cursor, limit: limit)
        }
    }

    /// What happened to one recipient: queued with its batch, then the pipeline's outcome (sent, or why
    /// not), then its provider's events in the provider's time order (a webhook cannot precede the send).
    package func history(userID: String, batchID: String, position: Int64) async throws(APIError) -> [String] {
        try await database.run { db in
            guard let recipient = try Recipients.standing(db, batchID: batchID, position: position, userID: userID) else {
                throw APIError.notFound("recipient \(position) of batch \(batchID)", field: "path.position")
            }
            var events: [String] = []
            if let queuedAt = recipient.queuedAt {
                events.append(JSONValue.object(["type": .string(RecipientStatus.queued.rawValue), "at": .string(queuedAt), "source": .string("pipeline")]).compactText)
            }
            if let sentAt = recipient.sentAt {
                events.append(JSONValue.object(["type": .string(RecipientStatus.sent.rawValue), "at": .string(sentAt), "source": .string("pipeline"),
                                                "providerMessageId": recipient.providerMessageID.map(JSONValue.string) ?? .null]).compactText)
            } else if let status = recipient.status, [RecipientStatus.failed, .suppressed, .cancelled].contains(status) {
                events.append(JSONValue.object(["type": .string(status.rawValue), "at": .string(recipient.updatedAt ?? ""),
                                                "source": .string("pipeline"),
                                                "reason": recipient.lastError.map(JSONValue.string) ?? .null]).compactText)
            }
            return events + (try RecipientEvents.history(db, batchID: batchID, position: position))
        }
    }
}
