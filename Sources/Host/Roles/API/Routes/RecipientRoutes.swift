import Analytics
import Domain
import HostCore
import Hummingbird
import Messaging
import Persistence
import ProviderInstances
import ProviderModel

/// `POST /api/batches/{id}/recipients` (JSON array or `text/csv`, streamed),
/// `GET /api/batches/{id}/recipients?status=&cursor=` and one recipient's history,
/// `GET /api/batches/{id}/recipients/{position}/events`.
struct RecipientRoutes {
    let database: Database
    let upload: RecipientUpload

    /// JSON recipient uploads are capped in bytes; CSV ones in lines (both by `[api] max_recipients_per_batch`).
    static let jsonLimit = 32 << 20
    static let statuses = Set(RecipientStatus.allCases.map(\.rawValue))

    func register(on group: RouterGroup<APIContext>) {
        group.post("batches/{id}/recipients", use: add)
        group.get("batches/{id}/recipients", use: list)
        group.get("batches/{id}/recipients/{position}/events", use: events)
    }

    /// What happened to one recipient: queued with its batch, then the pipeline's outcome (sent, or why
    /// not), then its provider's events in the provider's time order (a webhook cannot precede the send).
    @Sendable func events(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let id = try RequestInput.id(context, what: "batch")
        // Positions are PostgreSQL bigints from 1: INT64_MIN, zero or thirty digits names no recipient.
        guard let text = context.parameters.get("position"), let position = try? BoundedInteger.parse(text, in: 1...Int64.max) else {
            throw APIError.notFound("recipient", field: "path.position")
        }
        let rows = try await database.run { db in
            guard let recipient = try db.query("""
                SELECT r.status, r.sent_at, r.updated_at, r.provider_message_id, r.last_error, b.queued_at
                FROM recipients r JOIN batches b ON b.id = r.batch_id
                WHERE r.batch_id = $1 AND r.position = $2 AND b.user_id = $3
                """, [id, String(position), caller.userID]).first else {
                throw APIError.notFound("recipient \(position) of batch \(id)", field: "path.position")
            }
            var events: [String] = []
            if let queuedAt = recipient[5] {
                events.append(JSONValue.object(["type": .string("queued"), "at": .string(queuedAt), "source": .string("pipeline")]).compactText)
            }
            if let sentAt = recipient[1] {
                events.append(JSONValue.object(["type": .string("sent"), "at": .string(sentAt), "source": .string("pipeline"),
                                                "providerMessageId": recipient[3].map(JSONValue.string) ?? .null]).compactText)
            } else if let status = recipient[0], ["failed", "suppressed", "cancelled"].contains(status) {
                events.append(JSONValue.object(["type": .string(status), "at": .string(recipient[2] ?? ""), "source": .string("pipeline"),
                                                "reason": recipient[4].map(JSONValue.string) ?? .null]).compactText)
            }
            events += try db.query("""
                SELECT jsonb_build_object('type', type, 'at', occurred_at, 'source', 'provider', 'provider', provider, 'eventId', event_id,
                                          'bounceClass', bounce_class, 'reason', reason, 'code', code, 'url', url,
                                          'receivedAt', received_at)::text
                FROM recipient_events WHERE batch_id = $1 AND position = $2
                ORDER BY occurred_at, received_at, event_id LIMIT 1000
                """, [id, String(position)]).compactMap { $0[0] }
            return events
        }
        return JSONResponse.page(rows, nextCursor: nil)
    }

    @Sendable func add(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let id = try RequestInput.id(context, what: "batch")
        let mediaType = RequestInput.mediaType(request)
        guard mediaType == "text/csv" || mediaType == "application/json" else { throw APIError.unsupportedMediaType("application/json or text/csv") }
        // Checked before the body is read, so that a wrong batch fails fast and the rows are checked for its
        // channel as they arrive; the merge checks again under the batch's lock.
        let open: @Sendable (Persistence.PostgresConnection) throws -> RecipientUpload.Target = { db in
            let batch = try BatchStore.state(db, userID: caller.userID, id: id)
            guard batch.status == "draft" else {
                throw APIError.conflict("the batch is \(batch.status); recipients can only be added to a draft", field: "path.id")
            }
            return RecipientUpload.Target(batchID: id, userID: caller.userID, channel: batch.channel)
        }
        let channel = try await database.run(open).channel
        let checked = if mediaType == "text/csv" {
            try await upload.checkCSV(request.body, channel: channel)
        } else {
            try await upload.checkJSON(try await upload.receive(request.body, limit: Self.jsonLimit), shape: .array, channel: channel)
        }
        let (_, result) = try await upload.commit(checked, open: open)
        return JSONResponse.make(.ok, result.json)
    }

    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let id = try RequestInput.id(context, what: "batch")
        let limit = try RequestInput.limit(request, fallback: 100, max: 1_000)
        let query = request.uri.queryParameters
        let status = query.get("status")
        if let status, !Self.statuses.contains(status) {
            throw APIError.invalid("query.status", "must be one of \(Self.statuses.sorted().joined(separator: ", "))")
        }
        let cursor = try query.get("cursor").map { text throws(APIError) in
            guard let position = try? BoundedInteger.parse(text, in: 0...Int64.max) else {
                throw APIError.invalid("query.cursor", "is not a cursor this listing gave")
            }
            return position
        }
        let page = try await database.run { db in
            guard try !db.query("SELECT 1 FROM batches WHERE id = $1 AND user_id = $2", [id, caller.userID]).isEmpty else {
                throw APIError.notFound("batch \(id)", field: "path.id")
            }
            let rows = try db.query("""
                SELECT jsonb_build_object('position', position, 'address', address, 'variables', variables, 'status', status,
                                          'providerMessageId', provider_message_id, 'attempts', attempts,
                                          'lastError', last_error, 'updatedAt', updated_at)::text, position
                FROM recipients WHERE batch_id = $1 AND ($2::text IS NULL OR status = $2) AND position > $3::bigint
                ORDER BY position LIMIT $4
                """, [id, status, String(cursor ?? 0), String(limit + 1)])
            let page = rows.prefix(limit)
            return (page.compactMap { $0[0] }, rows.count > limit ? page.last?[1] : nil)
        }
        return JSONResponse.page(page.0, nextCursor: page.1)
    }
}
