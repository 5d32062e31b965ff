import Domain
import Foundation
import HostCore
import Logging
import Messaging
import NIOPosix
import Persistence
import ProviderCrypto
import ProviderModel
import Templating

/// One transactional message to one recipient through a send-config, sent ahead of every bulk chunk. It is
/// stored as a batch of one (kind `message`) and handed straight to the priority queue, rendered here. With an
/// `Idempotency-Key` (claimed like a batch's, see `IdempotencyService`), a repeat of the same request within a day
/// returns the first answer and sends nothing; another request under the same key is a 409.
package struct MessageService: Sendable {
    let database: Database
    let delivery: DeliveryState
    let queue: APIJetStream
    let threads: NIOThreadPool
    let logger: Logger

    package static let members: Set<String> = Set(["sendConfigId", "to", "variables", "listUnsubscribe", AttachmentChoice.member]).union(MessageContent.members)

    package init(database: Database, delivery: DeliveryState, queue: APIJetStream, threads: NIOThreadPool, logger: Logger) {
        self.database = database
        self.delivery = delivery
        self.queue = queue
        self.threads = threads
        self.logger = logger
    }

    /// What the transaction decided: a new message to hand to the queue, or an earlier answer to repeat.
    private enum Decision: Sendable {
        case created(answer: String, job: ChunkJob?)
        case replayed(answer: String)
    }

    /// Checks, stores and queues the message a request's members (`members`) describe: its JSON, and whether
    /// it repeats an earlier request's answer.
    package func send(userID: String, idempotencyKey key: String?, fields: JSONFields) async throws(APIError) -> (answer: String, replayed: Bool) {
        // Of the request's meaning, not its bytes: members in another order are the same request.
        let idempotency = key.map {
            IdempotencyKey(value: $0, route: "POST /api/messages", fingerprint: Digest.sha256(JSONValue.object(fields.object).compactBytes))
        }
        let configText = try fields.requiredString("sendConfigId", maxLength: 64)
        guard let configID = UUID(uuidString: configText)?.uuidString.lowercased() else {
            throw APIError.invalid("sendConfigId", "must be the id of one of your send-configs")
        }
        let to = try fields.requiredString("to", maxLength: 320)
        let content = try MessageContent.parse(fields)
        // A transactional message (a receipt, a code) may leave out the one-click unsubscribe bulk email carries.
        let listUnsubscribe = try fields.bool("listUnsubscribe") ?? true
        let attachments = try AttachmentChoice.parse(fields)
        let variables = JSONValue.object(try fields.objectValue("variables") ?? [:])

        let decision = try await database.transaction { db throws -> Decision in
            // The id is chosen first, so that the key is claimed before any work: a second request with the key
            // waits here for this one's transaction, then replays its answer (or claims the key if it rolled back).
            let id = UUID().uuidString.lowercased()
            if let idempotency, case .done(let earlier) = try IdempotencyService.claim(idempotency, db, userID: userID, resource: id) {
                return .replayed(answer: try Messages.firstAnswer(db, id: earlier) ?? "{}")
            }
            guard let config = try SendConfigs.find(db, userID: userID, id: configID) else {
                throw APIError.invalid("sendConfigId", "no send-config \(configID) of yours exists")
            }
            let (payload, chosen) = try content.resolve(db, userID: userID, channel: config.channel, defaults: config.defaults)
            let address: String
            switch RecipientAddress.normalize(to, channel: config.channel) {
            case .success(let normalized): address = normalized
            case .failure(let problem): throw APIError.invalid("to", problem.reason)
            }
            // Rendered now, so that a missing variable is the caller's 422, not a failed message later.
            let template: BatchTemplate
            do {
                template = try BatchTemplate(payloadJSON: payload.compactText,
                                             defaultsJSON: JSONValue.object(config.defaults.mapValues { .string($0) }).compactText,
                                             channel: config.channel)
            } catch let error as TemplateError { throw APIError.invalid(chosen == nil ? "payload" : "templateId", error.description) }
            var recipient: ChunkJob.Recipient
            switch template.render(position: 0, address: address, variablesJSON: variables.compactText) {
            case .success(let rendered): recipient = rendered
            case .failure(let problem): throw APIError.invalid("variables", problem.description)
            }
            let suppressed = try Suppressions.contains(db, userID: userID, address: address)
            try Messages.insert(db, id: id, userID: userID, sendConfigID: configID, payloadJSON: payload.compactText, template: chosen,
                                listUnsubscribe: listUnsubscribe, suppressed: suppressed)
            try attachments.attach(db, userID: userID, batchID: id, channel: config.channel)
            recipient.position = try Recipients.insertOne(db, batchID: id, address: address, variablesJSON: variables.compactText,
                                                          status: suppressed ? .suppressed : .queued)
            let answer = try Messages.recordAnswer(db, id: id)
            try AuditLog.record(db, userID: userID, action: "message.created", subject: "message", id: id)
            var job = suppressed ? nil : ChunkJob(batchID: id, userID: userID, sendConfigID: configID, common: template.common,
                                                  recipients: [recipient])
            job?.listUnsubscribe = listUnsubscribe
            job?.attachmentCount = attachments.ids.count
            return .created(answer: answer, job: job)
        }
        switch decision {
        case .replayed(let answer):
            return (answer, true)
        case .created(let answer, let job):
            if let job { await enqueue(job) }
            return (answer, false)
        }
    }

    /// Hands the message to the priority queue. It is stored already: if the queue cannot take it now,
    /// stuck-batch recovery sends it through the bulk path later, so the answer is still 202.
    private func enqueue(_ job: ChunkJob) async {
        do {
            try await delivery.open(job.batchID)
            let queue = self.queue
            try await threads.runIfActive { try queue.publish(job) }
        } catch {
            logger.warning("message stored but not queued; recovery sends it", metadata: ["message": "\(job.batchID)", "error": "\(error)"])
        }
    }

    /// The user's message as JSON; 404 when there is none.
    package func find(userID: String, id: String) async throws(APIError) -> String {
        guard let row = try await database.run({ db in try Messages.find(db, userID: userID, id: id) }) else {
            throw APIError.notFound("message \(id)", field: "path.id")
        }
        return row
    }
}
