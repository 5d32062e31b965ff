import Hummingbird

/// `POST/GET /api/api-keys`, `DELETE /api/api-keys/{id}`: a user's keys, for rotation.
struct APIKeyRoutes {
    let database: Database

    func register(on group: RouterGroup<APIContext>) {
        group.post("api-keys", use: create)
        group.get("api-keys", use: list)
        group.delete("api-keys/{id}", use: revoke)
    }

    @Sendable func create(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let fields = try JSONFields(parsing: try await RequestInput.jsonBody(request, context: context), allowed: ["name"])
        let name = try fields.string("name", maxLength: 100) ?? "api key"
        let created = try await database.transaction { db in try APIKeyStore.create(db, userID: caller.userID, name: name) }
        return JSONResponse.make(.created, text: created.json)
    }

    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let rows = try await database.run { db in try APIKeyStore.list(db, userID: caller.userID) }
        return JSONResponse.page(rows, nextCursor: nil)
    }

    @Sendable func revoke(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let keyID = try RequestInput.id(context, what: "API key")
        let revoked = try await database.transaction { db in try APIKeyStore.revoke(db, userID: caller.userID, keyID: keyID) }
        guard revoked else { throw APIError.notFound("API key \(keyID)", field: "path.id") }
        return Response(status: .noContent)
    }
}
