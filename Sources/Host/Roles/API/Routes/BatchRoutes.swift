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
import Services

/// `POST/GET /api/batches`, `GET/DELETE /api/batches/{id}`, `POST /api/batches/{id}/send|cancel|pause|resume|retry-failed`,
/// `GET /api/batches/{id}/events`.
struct BatchRoutes {
    let batches: BatchService
    let upload: RecipientUpload

    static let members: Set<String> = Set(["name", "sendConfigId", "recipients", "scheduledAt", AttachmentChoice.member])
        .union(MessageContent.members)

    func register(on group: RouterGroup<APIContext>) {
        group.post("batches", use: create)
        group.get("batches", use: list)
        group.get("batches/{id}", use: show)
        group.get("batches/{id}/events", use: events)
        group.delete("batches/{id}", use: delete)
        group.post("batches/{id}/send", use: send)
        group.post("batches/{id}/cancel", use: cancel)
        group.post("batches/{id}/pause", use: pause)
        group.post("batches/{id}/resume", use: resume)
        group.post("batches/{id}/retry-failed", use: retryFailed)
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
        let content = try MessageContent.parse(fields)
        let attachments = try AttachmentChoice.parse(fields)
        if let recipients = fields.object["recipients"], recipients != .null {
            // An array here was named with escapes (`"recipient\u0073"`), so the scanner did not take it.
            guard case .array = recipients else { throw APIError.invalid("recipients", "must be an array") }
            throw APIError.invalid("recipients", "name the member recipients without escape sequences")
        }
        let channel = try await batches.channel(userID: caller.userID, sendConfigID: configID)
        let checked = try await upload.checkJSON(body, shape: .member("recipients"), channel: channel)
        let idempotency = try Idempotency.key(request, route: "POST /api/batches", fingerprint: checked.fingerprint)
        let created = try await batches.create(userID: caller.userID,
                                               BatchService.Draft(name: name, sendConfigID: configID, content: content, attachments: attachments,
                                                                  scheduledAt: scheduledAt),
                                               recipients: checked.spooled, idempotency: idempotency)
        return JSONResponse.make(.created, text: created.detail, replayed: created.replayed)
    }

    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let limit = try RequestInput.limit(request)
        let query = request.uri.queryParameters
        let cursor = try RequestInput.idCursor(request)
        let status = try query.get("status").map { text throws(APIError) in
            guard let status = BatchStatus(rawValue: text) else {
                throw APIError.invalid("query.status", "must be one of \(BatchStatus.names.sorted().joined(separator: ", "))")
            }
            return status
        }
        let page = try await batches.list(userID: caller.userID, cursor: cursor, status: status, limit: limit)
        return JSONResponse.page(page.rows, nextCursor: page.next)
    }

    @Sendable func show(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let id = try RequestInput.id(context, what: "batch")
        return JSONResponse.make(.ok, text: try await batches.detail(userID: caller.userID, id: id))
    }

    /// The batch's history: its switches to a fallback send-config and back.
    @Sendable func events(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let id = try RequestInput.id(context, what: "batch")
        let events = try await batches.events(userID: caller.userID, id: id)
        return JSONResponse.page(events.map(\.json.compactText), nextCursor: nil)
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
        let idempotency = try Idempotency.key(request, route: "POST /api/batches/{id}/send",
                                              fingerprint: Digest.sha256(Array(id.utf8) + [0x0A] + body))
        let sent = try await batches.send(userID: caller.userID, id: id, scheduledAt: scheduledAt, idempotency: idempotency)
        return JSONResponse.make(.ok, text: sent.detail, replayed: sent.replayed)
    }

    @Sendable func delete(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let id = try RequestInput.id(context, what: "batch")
        try await batches.deleteDraft(userID: caller.userID, id: id)
        return Response(status: .noContent)
    }

    @Sendable func cancel(_ request: Request, context: APIContext) async throws -> Response {
        try await control(context) { try await $0.cancel(userID: $1, id: $2) }
    }

    /// Body optional: `{"all": true}` retries every failed recipient the provider never accepted, not only those
    /// that failed for want of attempts.
    @Sendable func retryFailed(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let id = try RequestInput.id(context, what: "batch")
        var all = false
        let body = try await RequestInput.collect(request, context: context, limit: 4_096)
        if !body.isEmpty {
            try RequestInput.requireContentType(request, "application/json")
            all = try JSONFields(parsing: body, allowed: ["all"]).bool("all") ?? false
        }
        return JSONResponse.make(.ok, text: try await batches.retryFailed(userID: caller.userID, id: id, all: all))
    }

    @Sendable func pause(_ request: Request, context: APIContext) async throws -> Response {
        try await control(context) { try await $0.pause(userID: $1, id: $2) }
    }

    @Sendable func resume(_ request: Request, context: APIContext) async throws -> Response {
        try await control(context) { try await $0.resume(userID: $1, id: $2) }
    }

    /// One of the caller's batch's controls without a body (the service, the caller's id, the batch's id): the batch after it.
    private func control(_ context: APIContext, _ action: (BatchService, String, String) async throws -> String) async throws -> Response {
        let caller = try context.caller()
        let id = try RequestInput.id(context, what: "batch")
        return JSONResponse.make(.ok, text: try await action(batches, caller.userID, id))
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

