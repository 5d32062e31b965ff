import Hummingbird
import ProviderModel
import Services

/// `POST/GET /api/attachments`, `GET/DELETE /api/attachments/{id}`: files uploaded once (the body is the file's
/// bytes, the name in `?filename=`, the type in `Content-Type`) and named by id from batches and messages.
struct AttachmentRoutes {
    let attachments: AttachmentService
    /// Uploads in progress: each holds its file in memory (10 MiB, and about three times that while it is
    /// stored), so a few at once, and a 503 with Retry-After for more rather than a queue that holds connections.
    let uploads = UploadSlots(limit: 4)

    func register(on group: RouterGroup<APIContext>) {
        group.post("attachments", use: upload)
        group.get("attachments", use: list)
        group.get("attachments/{id}", use: show)
        group.delete("attachments/{id}", use: delete)
    }

    @Sendable func upload(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        guard let filename = request.uri.queryParameters.get("filename") else {
            throw APIError.invalid("query.filename", "is required: the name the recipient sees, e.g. invoice.pdf")
        }
        // The file's own type, without parameters (`; charset=…`).
        let declared = RequestInput.mediaType(request)
        guard uploads.take() else { throw APIError.busy() }
        defer { uploads.give() }
        let content = try await RequestInput.collect(request, context: context, limit: Attachment.maxTotalBytes)
        let json = try await attachments.upload(userID: caller.userID, filename: filename, contentType: declared, content: content)
        return JSONResponse.make(.created, text: json)
    }

    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let limit = try RequestInput.limit(request)
        let cursor = try RequestInput.idCursor(request)
        let page = try await attachments.list(userID: caller.userID, cursor: cursor, limit: limit)
        return JSONResponse.page(page.rows, nextCursor: page.next)
    }

    @Sendable func show(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let id = try RequestInput.id(context, what: "attachment")
        return JSONResponse.make(.ok, text: try await attachments.find(userID: caller.userID, id: id))
    }

    @Sendable func delete(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let id = try RequestInput.id(context, what: "attachment")
        try await attachments.delete(userID: caller.userID, id: id)
        return Response(status: .noContent)
    }
}
