import Analytics
import Domain
import HostCore
import Hummingbird
import Messaging
import Persistence
import ProviderInstances
import ProviderModel
import Templating

/// Batches: the list with progress, a new batch, a batch's page (upload, preview, send, delete a draft, pause, resume, retry of failed recipients, cancel, live
/// counters, recipients by status) and one recipient's history. Every read and change goes through the
/// sender API in process, so the page says what the API says, field and reason included.
struct BatchPages {
    let renderer: PageRenderer
    let api: SignedInAPI
    static let statuses = RecipientStatus.allCases.map(\.rawValue)
    /// The batch's counts a page shows: its recipients, then as many per status.
    static let counters = ["recipients"] + ([.pending, .sent, .delivered, .bounced, .complained, .failed, .suppressed, .cancelled] as [RecipientStatus])
        .map(\.rawValue)

    func register(on router: Router<WebContext>) {
        router.get("") { _, context in
            PageRenderer.redirect(context.session == nil ? "/login" : "/batches")
        }
        router.get("batches", use: list)
        router.post("batches", use: create)
        router.get("batches/{id}", use: show)
        router.get("batches/{id}/live", use: live)
        router.post("batches/{id}/recipients", use: upload)
        router.post("batches/{id}/send", use: send)
        router.post("batches/{id}/cancel", use: cancel)
        router.post("batches/{id}/pause", use: pause)
        router.post("batches/{id}/resume", use: resume)
        router.post("batches/{id}/retry-failed", use: retryFailed)
        router.post("batches/{id}/delete", use: delete)
        router.get("batches/{id}/recipients/{position}", use: recipient)
    }

    @Sendable func list(_ request: Request, context: WebContext) async throws -> Response {
        try await listPage(request, context: context)
    }

    private func listPage(_ request: Request, context: WebContext, error: String? = nil, values: [String: String] = [:]) async throws -> Response {
        _ = try context.user()
        var path = "/api/batches?limit=50"
        if let cursor = PageValues.id(request.uri.queryParameters.get("cursor")) { path += "&cursor=\(cursor)" }
        let batches = try await api.call(.get, path, context: context)
        let configs = try await api.call(.get, "/api/send-configs", context: context)
        let templates = try await api.call(.get, "/api/templates?limit=100", context: context)
        let rows: [[String: Any]] = batches.data.map { batch in
            let counts = batch["counts"] ?? .null
            func count(_ status: RecipientStatus) -> Int { counts[status.rawValue]?.count ?? 0 }
            let recipients = counts["recipients"]?.count ?? 0, suppressed = count(.suppressed)
            let done = count(.sent) + count(.failed) + count(.cancelled)
            return ["id": batch["id"]?.display ?? "", "name": batch["name"]?.display ?? "", "status": batch["status"]?.display ?? "",
                    "recipients": recipients, RecipientStatus.sent.rawValue: count(.sent), RecipientStatus.delivered.rawValue: count(.delivered),
                    "percent": PageValues.percent(done, of: recipients - suppressed), "created": batch["createdAt"]?.display ?? ""]
        }
        let options: [[String: Any]] = configs.data.map { config in
            ["id": config["id"]?.display ?? "", "name": config["name"]?.display ?? "", "provider": config["provider"]?.display ?? "",
             "selected": config["id"]?.display == values["sendConfigId"]]
        }
        let templateOptions: [[String: Any]] = templates.data.map { template in
            ["id": template["id"]?.display ?? "", "name": template["name"]?.display ?? "", "channel": template["channel"]?.display ?? "",
             "version": template["version"]?.display ?? "", "selected": template["id"]?.display == values["templateId"]]
        }
        var page: [String: Any] = ["title": "Batches", "section": "batches", "batches": rows, "configs": options, "hasConfigs": !options.isEmpty,
                                   "templates": templateOptions, "values": values]
        if let next = batches.json["nextCursor"]?.stringValue { page["next"] = "/batches?cursor=\(next)" }
        if let error { page["error"] = error }
        return renderer.page("batches", page, context: context, status: error == nil ? .ok : .unprocessableContent)
    }

    @Sendable func create(_ request: Request, context: WebContext) async throws -> Response {
        let form = context.form
        var payload: [String: JSONValue] = [:]
        for name in ["from", "subject", "html", "text"] {
            if let value = form[name], !value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { payload[name] = .string(value) }
        }
        var body: [String: JSONValue] = ["name": .string(form.text("name") ?? ""), "sendConfigId": .string(form.text("sendConfigId") ?? "")]
        // A stored template instead of the fields; both chosen is the API's 422, shown with the form as it was.
        if let template = form.text("templateId") { body["templateId"] = .string(template) }
        if form.text("templateId") == nil || !payload.isEmpty { body["payload"] = .object(payload) }
        let answer = try await api.call(.post, "/api/batches", json: .object(body), context: context)
        guard answer.ok, let id = answer.json["id"]?.stringValue else {
            var values: [String: String] = [:]
            for name in ["name", "sendConfigId", "templateId", "from", "subject", "html", "text"] { values[name] = form[name] ?? "" }
            return try await listPage(request, context: context, error: answer.problem, values: values)
        }
        return PageRenderer.redirect("/batches/\(id)")
    }

    @Sendable func show(_ request: Request, context: WebContext) async throws -> Response {
        try await batchPage(request, context: context)
    }

    private func batchPage(_ request: Request, context: WebContext, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let id = try batchID(context)
        let batch = try await api.call(.get, "/api/batches/\(id)", context: context).found("batch")
        let config = try await api.call(.get, "/api/send-configs/\(batch["sendConfigId"]?.display ?? "")", context: context)
        let filter = request.uri.queryParameters.get("status").flatMap { Self.statuses.contains($0) ? $0 : nil }
        var path = "/api/batches/\(id)/recipients?limit=50"
        if let filter { path += "&status=\(filter)" }
        if let cursor = request.uri.queryParameters.get("cursor").flatMap(Int.init) { path += "&cursor=\(cursor)" }
        let recipients = try await api.call(.get, path, context: context)
        let rows: [[String: Any]] = recipients.data.map { row in
            ["position": row["position"]?.display ?? "", "address": row["address"]?.display ?? "", "status": row["status"]?.display ?? "",
             "attempts": row["attempts"]?.display ?? "", "lastError": row["lastError"]?.display ?? "", "updated": row["updatedAt"]?.display ?? ""]
        }
        let statusText = batch["status"]?.display ?? ""
        var page: [String: Any] = [
            "title": batch["name"]?.display ?? "Batch", "section": "batches", "id": id, "name": batch["name"]?.display ?? "",
            "status": statusText, "counters": counters(batch), "recipients": rows, "configName": config.json["name"]?.display ?? "",
            "isDraft": BatchStatus(rawValue: statusText) == .draft,
            "cancellable": BatchStatus(rawValue: statusText).map(BatchStatus.cancellable.contains) ?? false,
            "pausable": BatchStatus(rawValue: statusText).map(BatchStatus.pausable.contains) ?? false,
            "retryable": BatchStatus(rawValue: statusText) == .completed && (batch["counts"]?[RecipientStatus.failed.rawValue]?.display ?? "0") != "0",
            "subject": batch["payload"]?["subject"]?.display ?? "",
            "filters": ([nil] + Self.statuses).map { name in
                ["label": name ?? "all", "href": "/batches/\(id)" + (name.map { "?status=\($0)" } ?? ""), "current": name == filter]
            },
            "preview": try await preview(batch: batch, config: config.json, context: context),
        ]
        page.setShown("scheduledAt", batch["scheduledAt"]?.display)
        if let template = batch["templateId"]?.stringValue, let version = batch["templateVersion"], version != .null {
            page["template"] = ["id": template, "version": version.display]
        }
        let files = (batch["attachments"]?.arrayValue ?? []).map { file in
            ["filename": file["filename"]?.display ?? "", "contentType": file["contentType"]?.display ?? "",
             "size": PageValues.bytes(file["size"]?.count ?? 0)]
        }
        page["attachments"] = files
        page["hasAttachments"] = !files.isEmpty
        // Its switches to a fallback send-config and back, if its config names any; the page stands without them.
        let history = ((try? await api.call(.get, "/api/batches/\(id)/events", context: context))?.data ?? []).map { event in
            ["type": event["type"]?.display ?? "", "at": event["occurredAt"]?.display ?? "", "detail": event["detail"]?.display ?? ""]
        }
        page["history"] = history
        page["hasHistory"] = !history.isEmpty
        page.setShown("failureReason", batch["progress"]?["failureReason"]?.display)
        page.setShown("paused", batch["pausedAt"]?.display)
        if let next = recipients.json["nextCursor"]?.stringValue {
            page["next"] = "/batches/\(id)?cursor=\(next)" + (filter.map { "&status=\($0)" } ?? "")
        }
        if let error { page["error"] = error }
        return renderer.page("batch", page, context: context, status: status)
    }

    /// The counters a batch page shows and its script refreshes, each with its share of the recipients.
    private func counters(_ batch: JSONValue) -> [[String: Any]] {
        let counts = batch["counts"] ?? .null
        let whole = max((counts["recipients"]?.count ?? 0) - (counts[RecipientStatus.suppressed.rawValue]?.count ?? 0), 0)
        return Self.counters.map { name in
            let value = counts[name]?.count ?? 0
            return ["name": name, "value": value, "percent": PageValues.percent(value, of: name == "recipients" ? value : whole)]
        }
    }

    /// The message as the first three recipients will get it, rendered as the processor renders it.
    private func preview(batch: JSONValue, config: JSONValue, context: WebContext) async throws -> [[String: Any]] {
        let id = batch["id"]?.display ?? ""
        let first = try await api.call(.get, "/api/batches/\(id)/recipients?limit=3", context: context)
        let channel = Channel(rawValue: config["channel"]?.display ?? "") ?? .email
        let template: BatchTemplate
        do {
            template = try BatchTemplate(payloadJSON: (batch["payload"] ?? .object([:])).compactText,
                                         defaultsJSON: (config["defaults"] ?? .object([:])).compactText, channel: channel)
        } catch {
            return [["address": "", "problem": "The message cannot be rendered: \(error)"]]
        }
        return first.data.map { row in
            let address = row["address"]?.display ?? ""
            let variables = (row["variables"] ?? .object([:])).compactText
            switch template.render(position: row["position"]?.count ?? 0, address: address, variablesJSON: variables) {
            case .success(let rendered):
                var values: [String: Any] = ["address": address, "from": template.common.from, "html": rendered.html ?? template.common.html,
                                             "hasHTML": !(rendered.html ?? template.common.html).isEmpty]
                values.setShown("subject", rendered.subject ?? template.common.subject)
                values.setShown("text", rendered.text ?? template.common.text)
                return values
            case .failure(let problem):
                return ["address": address, "problem": "This recipient cannot be sent: \(problem)"]
            }
        }
    }

    /// The batch as the API shows it, for the page's script to refresh the counters without a reload.
    @Sendable func live(_ request: Request, context: WebContext) async throws -> Response {
        let id = try batchID(context)
        let batch = try await api.call(.get, "/api/batches/\(id)", context: context).found("batch")
        let object: JSONValue = .object(["status": batch["status"] ?? .null, "counters": .array(counters(batch).map { counter in
            .object(["name": .string(counter["name"] as? String ?? ""), "value": .number(Double(counter["value"] as? Int ?? 0)),
                     "percent": .string(counter["percent"] as? String ?? "0")])
        })])
        return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: .init(byteBuffer: .init(bytes: object.compactBytes)))
    }

    /// A CSV file from the page's script, streamed on to the API as it arrives; the API's answer (counts, or
    /// the line at fault) goes back as it is.
    @Sendable func upload(_ request: Request, context: WebContext) async throws -> Response {
        let id = try batchID(context)
        var headers = HTTPFields()
        headers[.contentType] = request.headers[.contentType] ?? "text/csv"
        let answer = try await api.send(.post, "/api/batches/\(id)/recipients", headers: headers, body: request.body, context: context)
        return Response(status: answer.status, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: .init(bytes: answer.json.compactBytes)))
    }

    @Sendable func send(_ request: Request, context: WebContext) async throws -> Response {
        let id = try batchID(context)
        var body: JSONValue? = nil
        if let when = context.form.text("scheduledAt") {
            // A datetime-local field has no zone: the form says it is UTC.
            body = .object(["scheduledAt": .string(when.count == 16 ? when + ":00Z" : when + (when.hasSuffix("Z") ? "" : "Z"))])
        }
        let answer = try await api.call(.post, "/api/batches/\(id)/send", json: body, context: context)
        guard answer.ok else { return try await batchPage(request, context: context, error: answer.problem, status: answer.status) }
        return PageRenderer.redirect("/batches/\(id)")
    }

    @Sendable func cancel(_ request: Request, context: WebContext) async throws -> Response {
        try await control("/cancel", request, context: context)
    }

    @Sendable func pause(_ request: Request, context: WebContext) async throws -> Response {
        try await control("/pause", request, context: context)
    }

    @Sendable func resume(_ request: Request, context: WebContext) async throws -> Response {
        try await control("/resume", request, context: context)
    }

    /// A draft deleted: back to the list.
    @Sendable func delete(_ request: Request, context: WebContext) async throws -> Response {
        try await control("", request, context: context, method: .delete, then: "/batches")
    }

    /// Those that failed for want of attempts, as the API's default; every failed one with the form's `all`.
    @Sendable func retryFailed(_ request: Request, context: WebContext) async throws -> Response {
        let body: JSONValue? = context.form.text("all") == "true" ? .object(["all": .bool(true)]) : nil
        return try await control("/retry-failed", request, context: context, json: body)
    }

    /// One of the batch's controls (`POST /api/batches/{id}<action>`), then the batch's page again (or `then`); the
    /// page with the API's refusal when it refused.
    private func control(_ action: String, _ request: Request, context: WebContext, method: HTTPRequest.Method = .post,
                         json: JSONValue? = nil, then: String? = nil) async throws -> Response {
        let id = try batchID(context)
        let answer = try await api.call(method, "/api/batches/\(id)\(action)", json: json, context: context)
        guard answer.ok else { return try await batchPage(request, context: context, error: answer.problem, status: answer.status) }
        return PageRenderer.redirect(then ?? "/batches/\(id)")
    }

    @Sendable func recipient(_ request: Request, context: WebContext) async throws -> Response {
        let id = try batchID(context)
        guard let position = context.parameters.get("position").flatMap(Int.init), position > 0 else {
            throw WebRefusal.refused(.notFound, "There is no such recipient.")
        }
        let events = try await api.call(.get, "/api/batches/\(id)/recipients/\(position)/events", context: context).found("recipient")
        let rows: [[String: Any]] = (events["data"]?.arrayValue ?? []).map { event in
            var details: [String] = []
            for name in ["reason", "bounceClass", "code", "url", "providerMessageId"] {
                if let value = event[name]?.display, !value.isEmpty { details.append("\(name): \(value)") }
            }
            return ["type": event["type"]?.display ?? "", "at": event["at"]?.display ?? "", "source": event["source"]?.display ?? "",
                    "details": details.joined(separator: "; ")]
        }
        return renderer.page("recipient", ["title": "Recipient \(position)", "section": "batches", "batchID": id, "position": position,
                                           "events": rows], context: context)
    }

    private func batchID(_ context: WebContext) throws -> String {
        _ = try context.user()
        guard let id = PageValues.id(context.parameters.get("id")) else { throw WebRefusal.refused(.notFound, "There is no such batch.") }
        return id
    }
}
