import Hummingbird
import Services

/// `POST/GET /api/api-keys`, `DELETE /api/api-keys/{id}`: a user's keys, for rotation.
struct APIKeyRoutes {
    let keys: APIKeyService

    func register(on group: RouterGroup<APIContext>) {
        group.post("api-keys", use: create)
        group.get("api-keys", use: list)
        group.delete("api-keys/{id}", use: revoke)
    }

    @Sendable func create(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let fields = try JSONFields(parsing: try await RequestInput.jsonBody(request, context: context), allowed: ["name"])
        let name = try fields.string("name", maxLength: 100) ?? "api key"
        return JSONResponse.make(.created, text: try await keys.create(userID: caller.userID, name: name))
    }

    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        return JSONResponse.page(try await keys.list(userID: caller.userID), nextCursor: nil)
    }

    @Sendable func revoke(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let keyID = try RequestInput.id(context, what: "API key")
        try await keys.revoke(userID: caller.userID, keyID: keyID)
        return Response(status: .noContent)
    }
}
