import Hummingbird
import Persistence
import Services

/// `POST /api/messages` and `GET /api/messages/{id}`: one transactional message to one recipient
/// through a send-config, sent ahead of every bulk chunk. It is stored as a batch of one (kind
/// `message`) and handed straight to the priority queue, rendered here. With an `Idempotency-Key`, a
/// repeat of the same request returns the first answer and sends nothing; another request under the
/// same key is a 409.
struct MessageRoutes {
    let messages: MessageService

    func register(on group: RouterGroup<APIContext>) {
        group.post("messages", use: send)
        group.get("messages/:id", use: show)
    }

    @Sendable func send(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let key = try Idempotency.header(request)
        let fields = try JSONFields(parsing: try await RequestInput.jsonBody(request, context: context), allowed: MessageService.members)
        // Stored ahead of the bulk rounds' statements waiting for the same connections.
        let sent = try await PoolPriority.$ahead.withValue(true) {
            try await messages.send(userID: caller.userID, idempotencyKey: key, fields: fields)
        }
        return JSONResponse.make(.accepted, text: sent.answer, replayed: sent.replayed)
    }

    @Sendable func show(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let id = try RequestInput.id(context, what: "message")
        return JSONResponse.make(.ok, text: try await messages.find(userID: caller.userID, id: id))
    }
}
