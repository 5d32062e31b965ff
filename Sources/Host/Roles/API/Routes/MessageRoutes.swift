import Analytics
import Domain
import Foundation
import HTTPTypes
import HostCore
import Hummingbird
import Logging
import Messaging
import NIOPosix
import Persistence
import ProviderCrypto
import ProviderInstances
import ProviderModel
import Templating

/// `POST /api/messages` and `GET /api/messages/{id}`: one transactional message to one recipient
/// through a send-config, sent ahead of every bulk chunk. It is stored as a batch of one (kind
/// `message`) and handed straight to the priority queue, rendered here. With an `Idempotency-Key`, a
/// repeat of the same request returns the first answer and sends nothing; another request under the
/// same key is a 409.
struct MessageRoutes {
    let database: Database
    let hot: DeliveryState
    let queue: PriorityPublisher
    let threads: NIOThreadPool
    let logger: Logger

    static let members: Set<String> = ["sendConfigId", "to", "payload", "variables"]
    static let messageJSON = """
        jsonb_build_object('id', b.id, 'sendConfigId', b.send_config_id, 'to', r.address, 'status', r.status,
                           'providerMessageId', r.provider_message_id, 'attempts', r.attempts, 'lastError', r.last_error,
                           'createdAt', b.created_at, 'sentAt', r.sent_at, 'updatedAt', r.updated_at)
        """

    func register(on group: RouterGroup<APIContext>) {
        group.post("messages", use: send)
        group.get("messages/:id", use: show)
    }

    /// What the transaction decided: a new message to hand to the queue, or an earlier answer to repeat.
    private enum Decision: Sendable {
        case created(answer: String, job: ChunkJob?)
        case replayed(answer: String)
    }

    @Sendable func send(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let key = try IdempotencyKey.header(request)
        let body = try await RequestInput.jsonBody(request, context: context)
        let fields = try JSONFields(parsing: body, allowed: Self.members)
        // Of the request's meaning, not its bytes: members in another order are the same request.
        let hash = Encoding.hex(Digest.sha256(JSONValue.object(fields.object).compactBytes))
        let configText = try fields.requiredString("sendConfigId", maxLength: 64)
        guard let configID = UUID(uuidString: configText)?.uuidString.lowercased() else {
            throw APIError.invalid("sendConfigId", "must be the id of one of your send-configs")
        }
        let to = try fields.requiredString("to", maxLength: 320)
        guard let payloadValue = fields.object["payload"], payloadValue != .null else { throw APIError.invalid("payload", "is required") }
        let payloadFields = try JSONFields(payloadValue, path: "payload", allowed: BatchPayload.members)
        let variables = JSONValue.object(try fields.objectValue("variables") ?? [:])

        let decision = try await database.transaction { db throws -> Decision in
            if let key, let earlier = try Self.earlier(db, userID: caller.userID, key: key, hash: hash) { return .replayed(answer: earlier) }
            guard let config = try BatchStore.sendConfig(db, userID: caller.userID, id: configID) else {
                throw APIError.invalid("sendConfigId", "no send-config \(configID) of yours exists")
            }
            let payload = try BatchPayload.check(payloadFields, channel: config.channel, defaults: config.defaults)
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
            } catch let error as TemplateError { throw APIError.invalid("payload", error.description) }
            var recipient: ChunkJob.Recipient
            switch template.render(position: 0, address: address, variablesJSON: variables.compactText) {
            case .success(let rendered): recipient = rendered
            case .failure(let problem): throw APIError.invalid("variables", problem.description)
            }
            let suppressed = try !db.query("SELECT 1 FROM suppressions WHERE user_id = $1 AND address = $2", [caller.userID, address]).isEmpty
            let inserted = try db.query("""
                INSERT INTO batches (user_id, send_config_id, name, payload, kind, status, recipient_count, suppressed_count,
                                     queued_at, started_at, expanded_at, progressed_at, completed_at, idempotency_key, request_hash)
                VALUES ($1, $2, 'message', $3::jsonb, 'message', $4, 1, $5::integer, now(), now(), now(), now(),
                        CASE WHEN $4 = 'completed' THEN now() END, $6, $7)
                ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
                RETURNING id
                """, [caller.userID, configID, payload.compactText, suppressed ? "completed" : "processing", suppressed ? "1" : "0", key, hash])
            guard let id = inserted.first?[0] ?? nil else {
                // Another request with this key committed first (the insert waited for it): answer as it was answered.
                guard let key, let earlier = try Self.earlier(db, userID: caller.userID, key: key, hash: hash) else {
                    throw APIError.conflict("a message with this Idempotency-Key is being made; retry")
                }
                return .replayed(answer: earlier)
            }
            let position = try db.query("""
                INSERT INTO recipients (batch_id, position, address, variables, status)
                VALUES ($1, nextval('recipient_positions'), $2, $3::jsonb, $4) RETURNING position
                """, [id, address, variables.compactText, suppressed ? "suppressed" : "queued"])[0][0] ?? "0"
            recipient.position = Int(position) ?? 0
            let answer = try db.query("""
                UPDATE batches b SET first_answer = \(Self.messageJSON) FROM recipients r
                WHERE b.id = $1 AND r.batch_id = b.id RETURNING b.first_answer::text
                """, [id])[0][0] ?? "{}"
            try AuditLog.record(db, userID: caller.userID, action: "message.created", subject: "message", id: id)
            let job = suppressed ? nil : ChunkJob(batchID: id, userID: caller.userID, sendConfigID: configID, common: template.common,
                                                  recipients: [recipient])
            return .created(answer: answer, job: job)
        }
        switch decision {
        case .replayed(let answer):
            return JSONResponse.make(.accepted, Array(answer.utf8), headers: [HTTPField.Name("Idempotent-Replayed")!: "true"])
        case .created(let answer, let job):
            if let job { await enqueue(job) }
            return JSONResponse.make(.accepted, text: answer)
        }
    }

    /// Hands the message to the priority queue. It is stored already: if the queue cannot take it now,
    /// stuck-batch recovery sends it through the bulk path later, so the answer is still 202.
    private func enqueue(_ job: ChunkJob) async {
        do {
            try await hot.activate(job.batchID)
            let queue = self.queue
            try await threads.runIfActive { try queue.publish(job) }
        } catch {
            logger.warning("message stored but not queued; recovery sends it", metadata: ["message": "\(job.batchID)", "error": "\(error)"])
        }
    }

    @Sendable func show(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let id = try RequestInput.id(context, what: "message")
        let row = try await database.run { db in
            try db.query("""
                SELECT \(Self.messageJSON)::text FROM batches b JOIN recipients r ON r.batch_id = b.id
                WHERE b.id = $1 AND b.user_id = $2 AND b.kind = 'message'
                """, [id, caller.userID]).first?[0] ?? nil
        }
        guard let row else { throw APIError.notFound("message \(id)", field: "path.id") }
        return JSONResponse.make(.ok, text: row)
    }

    /// The answer given to an earlier request with this key; a 409 when that request was another.
    private static func earlier(_ db: PostgresConnection, userID: String, key: String, hash: String) throws -> String? {
        guard let row = try db.query("""
            SELECT request_hash, first_answer::text FROM batches WHERE user_id = $1 AND idempotency_key = $2
            """, [userID, key]).first else { return nil }
        guard row[0] == hash else {
            throw APIError.conflict("this Idempotency-Key was used for another request; use a new key for a new message",
                                    field: "header.Idempotency-Key")
        }
        return row[1] ?? "{}"
    }
}
