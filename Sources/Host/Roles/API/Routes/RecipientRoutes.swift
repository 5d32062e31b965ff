import Analytics
import Domain
import HostCore
import Hummingbird
import Messaging
import Persistence
import ProviderInstances
import ProviderModel
import Services

/// `POST /api/batches/{id}/recipients` (JSON array or `text/csv`, streamed),
/// `GET /api/batches/{id}/recipients?status=&cursor=` and one recipient's history,
/// `GET /api/batches/{id}/recipients/{position}/events`.
struct RecipientRoutes {
    let recipients: RecipientService
    let upload: RecipientUpload

    /// JSON recipient uploads are capped in bytes; CSV ones in lines (both by `[api] max_recipients_per_batch`).
    static let jsonLimit = 32 << 20

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
        let rows = try await recipients.history(userID: caller.userID, batchID: id, position: position)
        return JSONResponse.page(rows, nextCursor: nil)
    }

    @Sendable func add(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let id = try RequestInput.id(context, what: "batch")
        let mediaType = RequestInput.mediaType(request)
        guard mediaType == "text/csv" || mediaType == "application/json" else { throw APIError.unsupportedMediaType("application/json or text/csv") }
        // Checked before the body is read, so that a wrong batch fails fast and the rows are checked for its
        // channel as they arrive; the merge checks again under the batch's lock.
        let channel = try await recipients.draftChannel(userID: caller.userID, batchID: id)
        let checked = if mediaType == "text/csv" {
            try await upload.checkCSV(request.body, channel: channel)
        } else {
            try await upload.checkJSON(try await upload.receive(request.body, limit: Self.jsonLimit), shape: .array, channel: channel)
        }
        let result = try await recipients.add(userID: caller.userID, batchID: id, checked.spooled)
        return JSONResponse.make(.ok, result.json)
    }

    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let id = try RequestInput.id(context, what: "batch")
        let limit = try RequestInput.limit(request, fallback: 100, max: 1_000)
        let query = request.uri.queryParameters
        let status = try query.get("status").map { text throws(APIError) in
            guard let status = RecipientStatus(rawValue: text) else {
                let names = RecipientStatus.allCases.map(\.rawValue).sorted().joined(separator: ", ")
                throw APIError.invalid("query.status", "must be one of \(names)")
            }
            return status
        }
        let cursor = try query.get("cursor").map { text throws(APIError) in
            guard let position = try? BoundedInteger.parse(text, in: 0...Int64.max) else {
                throw APIError.invalid("query.cursor", "is not a cursor this listing gave")
            }
            return position
        }
        let page = try await recipients.list(userID: caller.userID, batchID: id, status: status, after: cursor ?? 0, limit: limit)
        return JSONResponse.page(page.rows, nextCursor: page.next)
    }
}
