import Hummingbird
import ProviderModel
import SenderAPI

/// Send-configs: the list (with each config's webhook URL to copy), a form per loaded provider generated
/// from its plugin's declared config keys (secrets as password fields), edit and delete.
struct SendConfigPages {
    let renderer: PageRenderer
    let api: SignedInAPI
    let configuration: APIConfiguration

    func register(on router: Router<WebContext>) {
        router.get("send-configs", use: list)
        router.post("send-configs", use: create)
        router.get("send-configs/{id}", use: edit)
        router.post("send-configs/{id}", use: update)
        router.post("send-configs/{id}/delete", use: delete)
    }

    @Sendable func list(_ request: Request, context: WebContext) async throws -> Response {
        try await listPage(context: context)
    }

    private func listPage(context: WebContext, error: String? = nil, provider: String? = nil, values: [String: String] = [:],
                          status: HTTPResponse.Status = .unprocessableContent) async throws -> Response {
        _ = try context.user()
        let configs = try await api.call(.get, "/api/send-configs", context: context)
        let rows: [[String: Any]] = configs.data.map { config in
            var row: [String: Any] = ["id": config["id"]?.display ?? "", "name": config["name"]?.display ?? "",
                                      "provider": config["provider"]?.display ?? "", "mode": config["mode"]?.display ?? "",
                                      "channel": config["channel"]?.display ?? "", "from": config["defaults"]?["from"]?.display ?? ""]
            row.setShown("webhookUrl", config["webhookUrl"]?.display)
            return row
        }
        let forms: [[String: Any]] = configuration.providers.keys.sorted().compactMap { id in
            guard let descriptor = configuration.providers[id] else { return nil }
            let current = provider == id
            var form: [String: Any] = ["provider": id, "open": current,
                    "name": current ? values["name"] ?? "" : "", "from": current ? values["from"] ?? "" : "",
                    "rateLimit": current ? values["rateLimit"] ?? "" : "",
                    "managed": configuration.managedProviders.contains(id),
                    "channels": descriptor.channels.map { ["name": $0.rawValue] }, "manyChannels": descriptor.channels.count > 1,
                    "keys": Self.fields(descriptor.configKeys, values: current ? values : [:])]
            if current, let error { form["error"] = error }
            return form
        }
        var page: [String: Any] = ["title": "Send-configs", "section": "send-configs", "configs": rows, "forms": forms]
        if let error, provider == nil { page["error"] = error }
        return renderer.page("send_configs", page, context: context, status: error == nil ? .ok : status)
    }

    /// A plugin's config keys as form fields: secrets as password inputs, booleans as checkboxes, lists as
    /// comma-separated text, maps as `name=value` lines (a secret map too: its values are never filled in).
    static func fields(_ keys: [ConfigKey], values: [String: String], editing: Bool = false) -> [[String: Any]] {
        keys.map { key in
            ["name": key.name, "field": "cred." + key.name, "description": key.description, "required": key.required && !editing,
             "secret": key.secret && key.type != .stringMap, "bool": key.type == .bool, "map": key.type == .stringMap,
             "plain": !key.secret && key.type != .bool && key.type != .stringMap,
             "inputType": key.type == .url ? "url" : "text", "value": key.secret ? "" : values["cred." + key.name] ?? "",
             "checked": values["cred." + key.name] == "true", "hint": key.type == .stringList ? "comma-separated" : "",
             "placeholder": editing && (key.secret || key.type == .stringMap) ? "unchanged unless you type a new one" : (key.defaultValue ?? "")]
        }
    }

    /// The credentials a form carries, typed by the plugin's keys; blank fields are left out.
    static func credentials(_ form: FormData, keys: [ConfigKey]) -> [String: JSONValue] {
        var credentials: [String: JSONValue] = [:]
        for key in keys {
            let field = "cred." + key.name
            switch key.type {
            case .bool:
                if form[field] != nil { credentials[key.name] = .bool(true) }
            case .stringList:
                guard let text = form.text(field) else { continue }
                credentials[key.name] = .array(text.split(separator: ",").map { .string($0.trimmingCharacters(in: .whitespaces)) })
            case .stringMap:
                guard let text = form.text(field) else { continue }
                var map: [String: JSONValue] = [:]
                for line in text.split(whereSeparator: \.isNewline) {
                    let parts = line.split(separator: "=", maxSplits: 1)
                    if parts.count == 2 { map[parts[0].trimmingCharacters(in: .whitespaces)] = .string(parts[1].trimmingCharacters(in: .whitespaces)) }
                }
                credentials[key.name] = .object(map)
            case .string, .url:
                if let text = form.text(field) { credentials[key.name] = .string(text) }
            }
        }
        return credentials
    }

    @Sendable func create(_ request: Request, context: WebContext) async throws -> Response {
        _ = try context.user()
        let form = context.form
        let provider = form.text("provider") ?? ""
        guard let descriptor = configuration.providers[provider] else {
            return try await listPage(context: context, error: "provider: no loaded plugin has the id \"\(provider)\"")
        }
        var body: [String: JSONValue] = ["name": .string(form.text("name") ?? ""), "provider": .string(provider),
                                         "mode": .string(form["mode"] == "managed" ? "managed" : "byok")]
        if let channel = form.text("channel") { body["channel"] = .string(channel) }
        if form["mode"] != "managed" { body["credentials"] = .object(Self.credentials(form, keys: descriptor.configKeys)) }
        if let from = form.text("from") { body["defaults"] = .object(["from": .string(from)]) }
        if let limit = form.text("rateLimit") { body["rateLimit"] = Int(limit).map { .number(Double($0)) } ?? .string(limit) }
        let answer = try await api.call(.post, "/api/send-configs", json: .object(body), context: context)
        guard answer.ok else {
            return try await listPage(context: context, error: answer.problem, provider: provider, values: form.values, status: answer.status)
        }
        return PageRenderer.redirect("/send-configs")
    }

    @Sendable func edit(_ request: Request, context: WebContext) async throws -> Response {
        try await editPage(context: context)
    }

    private func editPage(context: WebContext, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let id = try configID(context)
        let answer = try await api.call(.get, "/api/send-configs/\(id)", context: context)
        guard answer.ok else { throw WebRefusal.refused(answer.status == .notFound ? .notFound : answer.status, answer.status == .notFound ? "There is no such send-config." : answer.problem) }
        let config = answer.json
        var values: [String: String] = [:]
        for (name, value) in config["credentials"]?.objectValue ?? [:] { values["cred." + name] = value.display }
        let keys = configuration.providers[config["provider"]?.display ?? ""]?.configKeys ?? []
        var page: [String: Any] = ["title": "Edit \(config["name"]?.display ?? "send-config")", "section": "send-configs", "id": id,
                                   "name": config["name"]?.display ?? "", "provider": config["provider"]?.display ?? "",
                                   "from": config["defaults"]?["from"]?.display ?? "", "rateLimit": config["rateLimit"]?.display ?? "",
                                   "byok": config["mode"]?.display != "managed",
                                   "keys": Self.fields(keys, values: values, editing: true),
                                   "masked": (config["credentials"]?.objectValue ?? [:]).keys.sorted().map { name in
                                       ["name": name, "value": config["credentials"]?[name]?.display ?? ""]
                                   }]
        page.setShown("webhookUrl", config["webhookUrl"]?.display)
        if let error { page["error"] = error }
        return renderer.page("send_config", page, context: context, status: status)
    }

    @Sendable func update(_ request: Request, context: WebContext) async throws -> Response {
        let id = try configID(context)
        let current = try await api.call(.get, "/api/send-configs/\(id)", context: context)
        guard current.ok else { throw WebRefusal.refused(.notFound, "There is no such send-config.") }
        let form = context.form
        var body: [String: JSONValue] = ["name": .string(form.text("name") ?? "")]
        body["defaults"] = form.text("from").map { .object(["from": .string($0)]) } ?? .object([:])
        body["rateLimit"] = form.text("rateLimit").map { text in Int(text).map { .number(Double($0)) } ?? .string(text) } ?? .null
        if current.json["mode"]?.display != "managed" {
            let keys = configuration.providers[current.json["provider"]?.display ?? ""]?.configKeys ?? []
            // Blank fields keep what is stored (secrets are never shown, so they are blank unless retyped).
            let changed = Self.credentials(form, keys: keys)
            if !changed.isEmpty { body["credentials"] = .object(changed) }
        }
        let answer = try await api.call(.patch, "/api/send-configs/\(id)", json: .object(body), context: context)
        guard answer.ok else { return try await editPage(context: context, error: answer.problem, status: answer.status) }
        return PageRenderer.redirect("/send-configs")
    }

    @Sendable func delete(_ request: Request, context: WebContext) async throws -> Response {
        let id = try configID(context)
        let answer = try await api.call(.delete, "/api/send-configs/\(id)", context: context)
        guard answer.ok else {
            if answer.status == .notFound { throw WebRefusal.refused(.notFound, "There is no such send-config.") }
            return try await listPage(context: context, error: answer.problem, status: answer.status)
        }
        return PageRenderer.redirect("/send-configs")
    }

    private func configID(_ context: WebContext) throws -> String {
        _ = try context.user()
        guard let id = PageValues.id(context.parameters.get("id")) else { throw WebRefusal.refused(.notFound, "There is no such send-config.") }
        return id
    }
}
