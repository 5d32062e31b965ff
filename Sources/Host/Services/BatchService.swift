import Domain
import HostCore
import Messaging
import NIOPosix
import Persistence
import ProviderModel

/// Batches as their users handle them: made with their first recipients, listed, read, sent and cancelled.
package struct BatchService: Sendable {
    let database: Database
    let recipients: RecipientService
    /// Where a cancel tells the sender workers to stop claiming the batch's recipients.
    let delivery: DeliveryState
    /// Where a retry's batch job goes, and the threads its blocking publish runs on.
    let jobs: APIJetStream
    let threads: NIOThreadPool

    package init(database: Database, recipients: RecipientService, delivery: DeliveryState, jobs: APIJetStream, threads: NIOThreadPool) {
        self.database = database
        self.recipients = recipients
        self.delivery = delivery
        self.jobs = jobs
        self.threads = threads
    }

    /// The channel of the user's live send-config, so that inline recipients are checked for it; 422 when there is none.
    package func channel(userID: String, sendConfigID: String) async throws(APIError) -> Channel {
        guard let config = try await database.run({ db in try SendConfigs.find(db, userID: userID, id: sendConfigID) }) else {
            throw APIError.invalid("sendConfigId", "no send-config \(sendConfigID) of yours exists")
        }
        return config.channel
    }

    /// What a new batch is made of.
    package struct Draft: Sendable {
        package var name: String
        package var sendConfigID: String
        package var content: MessageContent
        package var attachments: AttachmentChoice
        package var scheduledAt: String?

        package init(name: String, sendConfigID: String, content: MessageContent, attachments: AttachmentChoice = AttachmentChoice(ids: []),
                     scheduledAt: String?) {
            self.name = name
            self.sendConfigID = sendConfigID
            self.content = content
            self.attachments = attachments
            self.scheduledAt = scheduledAt
        }
    }

    /// A new draft with its first recipients, in one transaction: the batch as JSON, and whether it is an
    /// earlier request's (same `Idempotency-Key`) repeated. A new batch is invisible to everyone else until
    /// the upload commits: it needs no lock for the merge.
    package func create(userID: String, _ draft: Draft, recipients upload: RecipientService.Spooled,
                        idempotency: IdempotencyKey?) async throws(APIError) -> (detail: String, replayed: Bool) {
        let (target, _) = try await recipients.commit(upload) { db in
            guard let config = try SendConfigs.find(db, userID: userID, id: draft.sendConfigID) else {
                throw APIError.invalid("sendConfigId", "no send-config \(draft.sendConfigID) of yours exists")
            }
            let content = try draft.content.resolve(db, userID: userID, channel: config.channel, defaults: config.defaults)
            let id = try Batches.insert(db, userID: userID, name: draft.name, sendConfigID: draft.sendConfigID,
                                        payloadJSON: content.payload.compactText, template: content.template, scheduledAt: draft.scheduledAt)
            try AuditLog.record(db, userID: userID, action: "batch.created", subject: "batch", id: id)
            if let idempotency, case .done(let earlier) = try IdempotencyService.claim(idempotency, db, userID: userID, resource: id) {
                return RecipientService.Target(batchID: earlier, userID: userID, channel: config.channel, replay: true)
            }
            // After the claim: a repeat answers as the first did, even if a file it names was deleted since.
            try draft.attachments.attach(db, userID: userID, batchID: id, channel: config.channel)
            return RecipientService.Target(batchID: id, userID: userID, channel: config.channel)
        }
        return (try await detail(userID: userID, id: target.batchID), target.replay)
    }

    /// The user's batches, newest first; `cursor` is the last id of the previous page.
    package func list(userID: String, cursor: String?, status: BatchStatus?, limit: Int) async throws(APIError) -> (rows: [String], next: String?) {
        try await database.run { db in
            if let cursor, try !Batches.exists(db, userID: userID, id: cursor) {
                throw APIError.invalid("query.cursor", "is not a cursor this listing gave")
            }
            return try Batches.page(db, userID: userID, cursor: cursor, status: status, limit: limit)
        }
    }

    /// The batch as JSON; 404 when the user has none with this id.
    package func detail(userID: String, id: String) async throws(APIError) -> String {
        guard let detail = try await database.run({ db in try Batches.detail(db, userID: userID, id: id) }) else {
            throw APIError.notFound("batch \(id)", field: "path.id")
        }
        return detail
    }

    /// The batch's history (`BatchEvents`): each switch of its messages to a fallback send-config and back, oldest
    /// first; 404 when the user has no batch with this id.
    package func events(userID: String, id: String) async throws(APIError) -> [BatchEvents.Event] {
        try await database.run { db in
            guard try Batches.state(db, userID: userID, id: id, locking: false) != nil else { throw APIError.notFound("batch \(id)", field: "path.id") }
            return try BatchEvents.list(db, batchID: id)
        }
    }

    /// draft → queued, for now or for `scheduledAt`: the batch as JSON, and whether this repeats an earlier request.
    package func send(userID: String, id: String, scheduledAt: String?,
                      idempotency: IdempotencyKey?) async throws(APIError) -> (detail: String, replayed: Bool) {
        try await database.transaction { db in
            if let idempotency, case .done = try IdempotencyService.claim(idempotency, db, userID: userID, resource: id) {
                return (try Batches.detail(db, userID: userID, id: id) ?? "{}", true)
            }
            guard let batch = try Batches.state(db, userID: userID, id: id, locking: true) else {
                throw APIError.notFound("batch \(id)", field: "path.id")
            }
            guard batch.status == .draft else {
                throw APIError.conflict("the batch is \(batch.status.rawValue); only a draft can be sent", field: "path.id")
            }
            guard batch.configLive else {
                throw APIError.conflict("the batch's send-config was deleted; create a batch with a live one", field: "sendConfigId")
            }
            guard batch.recipients - batch.suppressed > 0 else {
                throw APIError.invalid("recipients", "the batch has no recipients to send to; upload some first")
            }
            try Batches.markQueued(db, id: id, scheduledAt: scheduledAt)
            try AuditLog.record(db, userID: userID, action: "batch.queued", subject: "batch", id: id)
            return (try Batches.detail(db, userID: userID, id: id) ?? "{}", false)
        }
    }

    /// How long a cancel waits for the sends it found in flight: they were claimed before it, so they may be
    /// handed to the provider after the flag is set. Normally milliseconds; a provider in a brownout may hold
    /// them longer, and they then record what really happened when they return.
    static let inFlightWaitMs = 10_000

    /// Stops a batch that has not finished: recipients not yet sent are cancelled with it. Answered only once the
    /// workers' claims see the cancel and the sends claimed before it have returned (up to `inFlightWaitMs`):
    /// from then on nothing of this batch is handed to a provider. A batch cancelled before (a 409) is flagged
    /// again too, so a cancel retried after Redis was away takes effect; without a retry, the background role
    /// flags it within seconds of Redis answering.
    package func cancel(userID: String, id: String) async throws(APIError) -> String {
        var refused: APIError?
        do {
            try await database.transaction { db in
                guard let batch = try Batches.state(db, userID: userID, id: id, locking: true) else {
                    throw APIError.notFound("batch \(id)", field: "path.id")
                }
                guard BatchStatus.cancellable.contains(batch.status) else {
                    throw APIError.conflict("the batch is \(batch.status.rawValue) already and cannot be cancelled", field: "path.id")
                }
                // Recipients whose send is in flight now become sent or failed when it returns (the pipeline's write
                // takes them off cancelled_count); nothing not yet handed to a provider is sent after this.
                let cancelled = try Recipients.cancelWaiting(db, batchID: id)
                try Batches.markCancelled(db, id: id, cancelledRecipients: cancelled)
                try AuditLog.record(db, userID: userID, action: "batch.cancelled", subject: "batch", id: id)
            }
        } catch { refused = error }
        var cancelled = refused == nil
        if !cancelled {
            cancelled = try await database.run { db in
                guard let batch = try Batches.state(db, userID: userID, id: id) else { throw APIError.notFound("batch \(id)", field: "path.id") }
                return batch.status == .cancelled
            }
        }
        if cancelled {
            do { try await settle(cancelOf: id) } catch {
                throw APIError.unavailable("the batch is cancelled, but the workers could not be told yet (Redis is unreachable); they "
                                           + "will be within seconds of Redis answering again, or retry the cancel")
            }
        }
        if let refused { throw refused }
        return try await database.run { db in try Batches.detail(db, userID: userID, id: id) } ?? "{}"
    }

    /// Deletes a draft with its recipients (a batch that was sent keeps its history: cancel it instead), and the
    /// idempotency keys that made it.
    package func deleteDraft(userID: String, id: String) async throws(APIError) {
        try await database.transaction { db in
            guard let status = try Batches.deleteDraft(db, userID: userID, id: id) else {
                throw APIError.notFound("batch \(id)", field: "path.id")
            }
            guard status == .draft else {
                throw APIError.conflict("the batch is \(status.rawValue): only a draft can be deleted (cancel a batch on its way)", field: "path.id")
            }
            try IdempotencyKeyTable.forget(db, userID: userID, resourceID: id)
            try AuditLog.record(db, userID: userID, action: "batch.deleted", subject: "batch", id: id)
        }
    }

    /// Sets the batch's cancel flag, then waits for the recipients claimed before it to be recorded.
    private func settle(cancelOf id: String) async throws {
        try await afterClaimsReturn(id) { try await delivery.cancel(id, nowMs: $0) }
    }

    /// Sets a flag every claim reads (`flag` returns how many recipients were claimed when it was set), then waits
    /// up to `inFlightWaitMs` for those claims to be recorded: a cancel's and a pause's answer.
    func afterClaimsReturn(_ id: String, flag: (Int64) async throws -> Int) async throws {
        let clock = SystemClock()
        let start = clock.nowMilliseconds
        var held = try await flag(start)
        while held > 0, clock.nowMilliseconds - start < Self.inFlightWaitMs {
            try await Task.sleep(for: .milliseconds(50))
            held = try await delivery.claimed(id, nowMs: clock.nowMilliseconds)
        }
    }
}
