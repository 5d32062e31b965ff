import Hummingbird
import ProviderModel

/// API keys: the list, a new key (shown once, with a copy button) and revoking one.
struct APIKeyPages {
    let renderer: PageRenderer
    let api: SignedInAPI

    func register(on router: Router<WebContext>) {
        router.get("api-keys") { _, context in try await self.page(context: context) }
        router.post("api-keys", use: create)
        router.post("api-keys/{id}/revoke", use: revoke)
    }

    private func page(context: WebContext, created: String? = nil, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        _ = try context.user()
        let keys = try await api.call(.get, "/api/api-keys", context: context)
        var values: [String: Any] = ["title": "API keys", "section": "api-keys", "keys": keys.data.map { key in
            ["id": key["id"]?.display ?? "", "name": key["name"]?.display ?? "", "prefix": key["prefix"]?.display ?? "",
             "created": key["createdAt"]?.display ?? "", "lastUsed": key["lastUsedAt"]?.display ?? "never",
             "revoked": key["revokedAt"]?.display ?? "", "live": key["revokedAt"] == nil || key["revokedAt"] == .null]
        }]
        if let created { values["created"] = created }
        if let error { values["error"] = error }
        return renderer.page("api_keys", values, context: context, status: status)
    }

    @Sendable func create(_ request: Request, context: WebContext) async throws -> Response {
        _ = try context.user()
        let name = context.form.text("name") ?? "dashboard key"
        let answer = try await api.call(.post, "/api/api-keys", json: .object(["name": .string(name)]), context: context)
        guard answer.ok, let key = answer.json["key"]?.stringValue else {
            return try await page(context: context, error: answer.problem, status: answer.status)
        }
        // Shown on this answer only: the server keeps the key's hash, never the key.
        return try await page(context: context, created: key, status: .created)
    }

    @Sendable func revoke(_ request: Request, context: WebContext) async throws -> Response {
        _ = try context.user()
        guard let id = PageValues.id(context.parameters.get("id")) else { throw WebRefusal.refused(.notFound, "There is no such API key.") }
        let answer = try await api.call(.delete, "/api/api-keys/\(id)", context: context)
        if answer.status == .notFound { throw WebRefusal.refused(.notFound, "There is no such API key.") }
        guard answer.ok else { return try await page(context: context, error: answer.problem, status: answer.status) }
        return PageRenderer.redirect("/api-keys")
    }
}
