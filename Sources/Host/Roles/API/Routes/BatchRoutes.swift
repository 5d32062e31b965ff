import Analytics
import Domain
import Foundation
import HostCore
import Hummingbird
import Messaging
import Persistence
import ProviderCrypto
import ProviderInstances
import ProviderModel

/// `POST/GET /api/batches`, `GET /api/batches/{id}`, `POST /api/batches/{id}/send|cancel`.
struct BatchRoutes {
    let database: Database
    let upload: RecipientUpload
    /// Where a cancel tells the sender workers to stop claiming the batch's recipients.
    let hot: DeliveryState

    static let members: Set<String> = ["name", "sendConfigId", "payload", "recipients", "scheduledAt"]
    static let statuses = BatchStatus.names

    func register(on group: RouterGroup<APIContext>) {
        group.post("batches", use: create)
        group.get("batches", use: list)
        group.get("batches/{id}", use: show)
        group.post("batches/{id}/send", use: send)
        group.post("batches/{id}/cancel", use: cancel)
    }

    @Sendable func create(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        // Recipients may come inline, so the body may be larger than other JSON bodies: it is kept in a
        // spool as it arrives, and its recipients are read from there one at a time, never as one tree.
        try RequestInput.requireContentType(request, "application/json")
        let body = try await upload.receive(request.body, limit: RecipientRoutes.jsonLimit)
        let fields = try JSONFields(parsing: try await RecipientUpload.rest(body), allowed: Self.members)
        let name = try fields.requiredString("name", maxLength: 200)
        let configText = try fields.requiredString("sendConfigId", maxLength: 64)
        guard let configID = UUID(uuidString: configText)?.uuidString.lowercased() else {
            throw APIError.invalid("sendConfigId", "must be the id of one of your send-configs")
        }
        let scheduledAt = try Self.timestamp(fields, "scheduledAt")
        guard let payloadValue = fields.object["payload"], payloadValue != .null else { throw APIError.invalid("payload", "is required") }
        let payloadFields = try JSONFields(payloadValue, path: "payload", allowed: BatchPayload.members)
        if let recipients = fields.object["recipients"], recipients != .null {
            // An array here was named with escapes (`"recipient\u0073"`), so the scanner did not take it.
            guard case .array = recipients else { throw APIError.invalid("recipients", "must be an array") }
            throw APIError.invalid("recipients", "name the member recipients without escape sequences")
        }
        guard let channel = try await database.run({ db in try BatchStore.sendConfig(db, userID: caller.userID, id: configID) })?.channel else {
            throw APIError.invalid("sendConfigId", "no send-config \(configID) of yours exists")
        }
        let checked = try await upload.checkJSON(body, shape: .member("recipients"), channel: channel)
        let idempotency = try IdempotencyKey.from(request, route: "POST /api/batches", fingerprint: checked.fingerprint)
        // A new batch is invisible to everyone else until the upload commits: it needs no lock for the merge.
        let create: @Sendable (Persistence.PostgresConnection) throws -> RecipientUpload.Target = { db in
            guard let config = try BatchStore.sendConfig(db, userID: caller.userID, id: configID) else {
                throw APIError.invalid("sendConfigId", "no send-config \(configID) of yours exists")
            }
            let payload = try BatchPayload.check(payloadFields, channel: config.channel, defaults: config.defaults)
            let id = try BatchStore.insert(db, userID: caller.userID, name: name, sendConfigID: configID, payload: payload,
                                           scheduledAt: scheduledAt)
            if let idempotency, case .done(let earlier) = try idempotency.claim(db, userID: caller.userID, resource: id) {
                return RecipientUpload.Target(batchID: earlier, userID: caller.userID, channel: config.channel, replay: true)
            }
            return RecipientUpload.Target(batchID: id, userID: caller.userID, channel: config.channel)
        }
        let (target, _) = try await upload.commit(checked, open: create)
        let detail = try await database.run { db in try BatchStore.detail(db, userID: caller.userID, id: target.batchID) }
        return JSONResponse.make(.created, text: detail ?? "{}", replayed: target.replay)
    }

    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let limit = try RequestInput.limit(request)
        let query = request.uri.queryParameters
        let cursor = try query.get("cursor").map { text throws(APIError) in
            guard let uuid = UUID(uuidString: text) else { throw APIError.invalid("query.cursor", "is not a cursor this listing gave") }
            return uuid.uuidString.lowercased()
        }
        let status = query.get("status")
        if let status, !Self.statuses.contains(status) {
            throw APIError.invalid("query.status", "must be one of \(Self.statuses.sorted().joined(separator: ", "))")
        }
        let page = try await database.run { db in
            try BatchStore.page(db, userID: caller.userID, cursor: cursor, status: status, limit: limit)
        }
        return JSONResponse.page(page.rows, nextCursor: page.next)
    }

    @Sendable func show(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let id = try RequestInput.id(context, what: "batch")
        guard let detail = try await database.run({ db in try BatchStore.detail(db, userID: caller.userID, id: id) }) else {
            throw APIError.notFound("batch \(id)", field: "path.id")
        }
        return JSONResponse.make(.ok, text: detail)
    }

    @Sendable func send(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let id = try RequestInput.id(context, what: "batch")
        var scheduledAt: String?
        let body = try await RequestInput.collect(request, context: context, limit: context.maxUploadSize)
        if !body.isEmpty {
            try RequestInput.requireContentType(request, "application/json")
            scheduledAt = try Self.timestamp(try JSONFields(parsing: body, allowed: ["scheduledAt"]), "scheduledAt")
        }
        let when = scheduledAt
        let idempotency = try IdempotencyKey.from(request, route: "POST /api/batches/{id}/send",
                                                  fingerprint: Digest.sha256(Array(id.utf8) + [0x0A] + body))
        let (detail, replayed) = try await database.transaction { db in
            if let idempotency, case .done = try idempotency.claim(db, userID: caller.userID, resource: id) {
                return (try BatchStore.detail(db, userID: caller.userID, id: id), true)
            }
            try BatchStore.queue(db, userID: caller.userID, id: id, scheduledAt: when)
            return (try BatchStore.detail(db, userID: caller.userID, id: id), false)
        }
        return JSONResponse.make(.ok, text: detail ?? "{}", replayed: replayed)
    }

    @Sendable func cancel(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let id = try RequestInput.id(context, what: "batch")
        var refused: APIError?
        do { try await database.transaction { db in try BatchStore.cancel(db, userID: caller.userID, id: id) } } catch { refused = error }
        // Answered only once the workers' claims see the flag: from then on nothing of this batch is handed to a provider.
        // A batch cancelled before (its 409 below) is flagged again too, so a cancel retried after Redis was away takes effect.
        var cancelled = refused == nil
        if !cancelled {
            cancelled = try await database.run { db in try BatchStore.state(db, userID: caller.userID, id: id).status } == BatchStatus.cancelled.rawValue
        }
        if cancelled {
            do { try await hot.cancel(id) } catch {
                throw APIError.unavailable("the batch is cancelled, but the workers could not be told yet (Redis is unreachable); retry the cancel")
            }
        }
        if let refused { throw refused }
        let detail = try await database.run { db in try BatchStore.detail(db, userID: caller.userID, id: id) }
        return JSONResponse.make(.ok, text: detail ?? "{}")
    }

    static let earliestMs: Int64 = 0
    static let latestMs: Int64 = 253_402_300_799_999

    /// An ISO 8601 instant, normalised to UTC for PostgreSQL.
    static func timestamp(_ fields: JSONFields, _ name: String) throws(APIError) -> String? {
        guard let text = try fields.string(name, maxLength: 64) else { return nil }
        guard let milliseconds = ISO8601.milliseconds(text) else {
            throw APIError.invalid(fields.field(name), "must be a real ISO 8601 time such as 2026-12-01T09:00:00Z")
        }
        // PostgreSQL and every provider take four-digit years: an instant outside them is the caller's mistake.
        guard (Self.earliestMs...Self.latestMs).contains(milliseconds) else {
            throw APIError.invalid(fields.field(name), "must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z")
        }
        return ISO8601.extendedUTC(milliseconds: milliseconds)
    }
}

