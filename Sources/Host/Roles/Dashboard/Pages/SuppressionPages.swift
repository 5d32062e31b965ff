import Hummingbird
import ProviderModel

/// Suppressions: the addresses never sent to, with why (manual, bounce, complaint, unsubscribe) and where
/// from (the API or dashboard, or a provider's webhook); add and remove.
struct SuppressionPages {
    let renderer: PageRenderer
    let api: SignedInAPI
    static let reasons = ["manual", "bounce", "complaint", "unsubscribe"]

    func register(on router: Router<WebContext>) {
        router.get("suppressions") { request, context in try await self.page(request, context: context) }
        router.post("suppressions", use: add)
        router.post("suppressions/remove", use: remove)
    }

    private func page(_ request: Request, context: WebContext, notice: String? = nil, error: String? = nil,
                      status: HTTPResponse.Status = .ok) async throws -> Response {
        _ = try context.user()
        var path = "/api/suppressions?limit=100"
        if let cursor = request.uri.queryParameters.get("cursor") { path += "&cursor=\(PageValues.query(cursor))" }
        let list = try await api.call(.get, path, context: context)
        var values: [String: Any] = ["title": "Suppressions", "section": "suppressions", "reasons": Self.reasons.map { ["name": $0] },
                                     "rows": list.data.map { row in
                                         ["address": row["address"]?.display ?? "", "reason": row["reason"]?.display ?? "",
                                          "source": row["source"]?.display ?? "", "created": row["createdAt"]?.display ?? ""]
                                     }]
        if let next = list.json["nextCursor"]?.stringValue { values["next"] = "/suppressions?cursor=\(PageValues.query(next))" }
        if let notice { values["notice"] = notice }
        if let error { values["error"] = error }
        return renderer.page("suppressions", values, context: context, status: status)
    }

    @Sendable func add(_ request: Request, context: WebContext) async throws -> Response {
        _ = try context.user()
        let body: JSONValue = .object(["address": .string(context.form.text("address") ?? ""),
                                       "reason": .string(context.form.text("reason") ?? "manual")])
        let answer = try await api.call(.post, "/api/suppressions", json: body, context: context)
        guard answer.ok else { return try await page(request, context: context, error: answer.problem, status: answer.status) }
        return PageRenderer.redirect("/suppressions")
    }

    @Sendable func remove(_ request: Request, context: WebContext) async throws -> Response {
        _ = try context.user()
        let address = context.form.text("address") ?? ""
        let answer = try await api.call(.delete, "/api/suppressions?address=\(PageValues.query(address))", context: context)
        guard answer.ok else { return try await page(request, context: context, error: answer.problem, status: answer.status) }
        return PageRenderer.redirect("/suppressions")
    }
}
