import Hummingbird
import ProviderModel

/// Stored templates (`/api/templates`): the list with a form for a new one; a template's page shows a version
/// (the latest unless `?version=` names one) with the variables it reads, saves an edit as a new version,
/// previews a version for one recipient's variables, and deletes the template.
struct TemplatePages {
    let renderer: PageRenderer
    let api: SignedInAPI
    static let channels = Channel.allCases.map(\.rawValue)
    /// The payload members the forms edit, in the order they show.
    static let fields = ["from", "subject", "html", "text", "data"]

    func register(on router: Router<WebContext>) {
        router.get("templates") { request, context in try await self.listPage(request, context: context) }
        router.post("templates", use: create)
        router.get("templates/{id}") { request, context in try await self.templatePage(request, context: context) }
        router.post("templates/{id}", use: update)
        router.post("templates/{id}/preview", use: preview)
        router.post("templates/{id}/delete", use: delete)
    }

    private func listPage(_ request: Request, context: WebContext, error: String? = nil, values: [String: String] = [:]) async throws -> Response {
        _ = try context.user()
        var path = "/api/templates?limit=50"
        if let cursor = PageValues.id(request.uri.queryParameters.get("cursor")) { path += "&cursor=\(cursor)" }
        let list = try await api.call(.get, path, context: context)
        guard list.ok else { throw WebRefusal.refused(list.status, list.problem) }
        var page: [String: Any] = [
            "title": "Templates", "section": "templates", "values": values,
            "channels": Self.channels.map { ["name": $0, "selected": $0 == values["channel"]] },
            "rows": list.data.map { row in
                ["id": row["id"]?.display ?? "", "name": row["name"]?.display ?? "", "channel": row["channel"]?.display ?? "",
                 "version": row["version"]?.display ?? "", "variables": Self.variables(row), "updated": row["updatedAt"]?.display ?? ""]
            },
        ]
        if let next = list.json["nextCursor"]?.stringValue { page["next"] = "/templates?cursor=\(next)" }
        if let error { page["error"] = error }
        return renderer.page("templates", page, context: context, status: error == nil ? .ok : .unprocessableContent)
    }

    @Sendable func create(_ request: Request, context: WebContext) async throws -> Response {
        let form = context.form
        let payload: JSONValue
        do { payload = try Self.payload(form) } catch let problem as FormProblem {
            return try await listPage(request, context: context, error: problem.message, values: Self.echo(form, extra: ["name", "channel"]))
        }
        let body: JSONValue = .object(["name": .string(form.text("name") ?? ""), "channel": .string(form.text("channel") ?? ""), "payload": payload])
        let answer = try await api.call(.post, "/api/templates", json: body, context: context)
        guard answer.ok, let id = answer.json["id"]?.stringValue else {
            return try await listPage(request, context: context, error: answer.problem, values: Self.echo(form, extra: ["name", "channel"]))
        }
        return PageRenderer.redirect("/templates/\(id)")
    }

    /// The page of the version `?version=` names (or `version`, a form's, which wins), else the latest.
    private func templatePage(_ request: Request, context: WebContext, version: Int? = nil, error: String? = nil, preview: JSONValue? = nil,
                              edit: [String: String]? = nil, previewValues: [String: String] = [:]) async throws -> Response {
        let id = try Self.templateID(context)
        let asked = version ?? Self.version(request.uri.queryParameters.get("version"))
        let path = asked.map { "/api/templates/\(id)/versions/\($0)" } ?? "/api/templates/\(id)"
        let template = try await api.call(.get, path, context: context).found(asked == nil ? "template" : "version")
        let latest = template["latestVersion"]?.count ?? 1, shown = template["version"]?.count ?? 1
        var stored: [String: String] = [:]
        for name in Self.fields {
            guard let value = template["payload"]?[name], value != .null else { continue }
            stored[name] = name == "data" ? value.compactText : value.display
        }
        var page: [String: Any] = [
            "title": template["name"]?.display ?? "Template", "section": "templates", "id": id,
            "name": template["name"]?.display ?? "", "channel": template["channel"]?.display ?? "",
            "version": shown, "latestVersion": latest, "nextVersion": latest + 1, "isLatest": shown == latest, "variables": Self.variables(template),
            // Every member of the version, those the form does not edit (replyTo, headers, tags) too.
            "stored": Self.members(template["payload"]),
            "versions": (1...max(latest, 1)).reversed().map { ["number": $0, "current": $0 == shown] },
            "edit": edit ?? stored, "preview": previewValues,
        ]
        if let preview {
            page["hasRendered"] = true
            page["rendered"] = ["subject", "html", "text", "data"].compactMap { name -> [String: String]? in
                guard let value = preview[name], value != .null else { return nil }
                return ["field": name, "value": name == "data" ? value.compactText : value.display]
            }
        }
        if let error { page["error"] = error }
        return renderer.page("template", page, context: context, status: error == nil ? .ok : .unprocessableContent)
    }

    @Sendable func update(_ request: Request, context: WebContext) async throws -> Response {
        let id = try Self.templateID(context)
        let form = context.form
        let base = Self.version(form.text("base"))
        // The version the form was filled from, whose members the form does not show (replyTo, headers, tags) are kept.
        let path = base.map { "/api/templates/\(id)/versions/\($0)" } ?? "/api/templates/\(id)"
        let shown = try await api.call(.get, path, context: context).found("template")
        let payload: JSONValue
        do { payload = try Self.payload(form, over: shown["payload"]) } catch let problem as FormProblem {
            return try await templatePage(request, context: context, version: base, error: problem.message, edit: Self.echo(form, extra: []))
        }
        var body: [String: JSONValue] = ["payload": payload]
        if let name = form.text("name") { body["name"] = .string(name) }
        let answer = try await api.call(.put, "/api/templates/\(id)", json: .object(body), context: context)
        guard answer.ok else {
            if answer.status == .notFound { _ = try answer.found("template") }
            return try await templatePage(request, context: context, version: base, error: answer.problem, edit: Self.echo(form, extra: []))
        }
        return PageRenderer.redirect("/templates/\(id)")
    }

    @Sendable func preview(_ request: Request, context: WebContext) async throws -> Response {
        let id = try Self.templateID(context)
        let form = context.form
        let echo = ["variables": form["variables"] ?? "", "to": form["to"] ?? ""]
        let version = Self.version(form.text("version"))
        var body: [String: JSONValue] = [:]
        if let text = form.text("variables") {
            guard let variables = JSONValue.parse(Array(text.utf8)), case .object = variables else {
                return try await templatePage(request, context: context, version: version,
                                              error: "variables: write them as a JSON object, e.g. {\"name\": \"Ann\"}", previewValues: echo)
            }
            body["variables"] = variables
        }
        if let to = form.text("to") { body["to"] = .string(to) }
        if let version { body["version"] = .number(Double(version)) }
        let answer = try await api.call(.post, "/api/templates/\(id)/preview", json: .object(body), context: context)
        guard answer.ok else {
            if answer.status == .notFound { _ = try answer.found("template") }
            return try await templatePage(request, context: context, version: version, error: answer.problem, previewValues: echo)
        }
        return try await templatePage(request, context: context, version: version, preview: answer.json, previewValues: echo)
    }

    @Sendable func delete(_ request: Request, context: WebContext) async throws -> Response {
        let id = try Self.templateID(context)
        _ = try await api.call(.delete, "/api/templates/\(id)", context: context).found("template")
        return PageRenderer.redirect("/templates")
    }

    private struct FormProblem: Error { var message: String }

    private static func members(_ payload: JSONValue?) -> [[String: String]] {
        guard case .object(let members)? = payload else { return [] }
        return members.sorted { $0.key < $1.key }.map { ["field": $0.key, "value": $0.value.stringValue ?? $0.value.compactText] }
    }

    /// A version number as a page or form gives it; nil when it is not one.
    private static func version(_ text: String?) -> Int? {
        text.flatMap { Int($0) }.flatMap { (1...Int(Int32.max)).contains($0) ? $0 : nil }
    }

    /// The payload the form describes: its filled fields (`data` read as JSON) over `base`'s other members; a field
    /// left blank is left out.
    private static func payload(_ form: FormData, over base: JSONValue? = nil) throws -> JSONValue {
        var payload: [String: JSONValue] = [:]
        if case .object(let members)? = base { payload = members.filter { !fields.contains($0.key) } }
        for name in fields {
            guard let value = form[name], !value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { continue }
            if name == "data" {
                guard let data = JSONValue.parse(Array(value.utf8)) else { throw FormProblem(message: "data: is not JSON") }
                payload[name] = data
            } else {
                payload[name] = .string(value)
            }
        }
        return .object(payload)
    }

    private static func echo(_ form: FormData, extra: [String]) -> [String: String] {
        var values: [String: String] = [:]
        for name in fields + extra { values[name] = form[name] ?? "" }
        return values
    }

    private static func variables(_ template: JSONValue) -> String {
        (template["variables"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", ")
    }

    private static func templateID(_ context: WebContext) throws -> String {
        guard let id = PageValues.id(context.parameters.get("id")) else { throw WebRefusal.refused(.notFound, "There is no such template.") }
        return id
    }
}
