import Foundation
import Hummingbird
import Services
import ProviderModel

/// `POST/GET /api/templates`, `GET/PUT/DELETE /api/templates/{id}`, `GET /api/templates/{id}/versions/{version}`,
/// `POST /api/templates/{id}/preview`: stored templates, each update a new immutable version.
struct TemplateRoutes {
    let templates: TemplateService

    static let createMembers: Set<String> = ["name", "channel", "payload"]
    static let updateMembers: Set<String> = ["name", "payload"]
    static let previewMembers: Set<String> = ["version", "to", "variables"]

    func register(on group: RouterGroup<APIContext>) {
        group.post("templates", use: create)
        group.get("templates", use: list)
        group.get("templates/{id}", use: show)
        group.put("templates/{id}", use: update)
        group.delete("templates/{id}", use: delete)
        group.get("templates/{id}/versions/{version}", use: showVersion)
        group.post("templates/{id}/preview", use: preview)
    }

    @Sendable func create(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let fields = try JSONFields(parsing: try await RequestInput.jsonBody(request, context: context), allowed: Self.createMembers)
        let name = try fields.requiredString("name", maxLength: 200)
        let channelText = try fields.requiredString("channel", maxLength: 32)
        guard let channel = Channel(rawValue: channelText) else {
            throw APIError.invalid("channel", "must be one of \(Channel.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let json = try await templates.create(userID: caller.userID, name: name, channel: channel, payload: try Self.payload(fields))
        return JSONResponse.make(.created, text: json)
    }

    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let limit = try RequestInput.limit(request)
        let cursor = try RequestInput.idCursor(request)
        let page = try await templates.list(userID: caller.userID, cursor: cursor, limit: limit)
        return JSONResponse.page(page.rows, nextCursor: page.next)
    }

    @Sendable func show(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let id = try RequestInput.id(context, what: "template")
        return JSONResponse.make(.ok, text: try await templates.find(userID: caller.userID, id: id, version: nil).json)
    }

    @Sendable func showVersion(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let id = try RequestInput.id(context, what: "template")
        let version = try Self.version(context.parameters.get("version"), field: "path.version")
        return JSONResponse.make(.ok, text: try await templates.find(userID: caller.userID, id: id, version: version).json)
    }

    @Sendable func update(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let id = try RequestInput.id(context, what: "template")
        let fields = try JSONFields(parsing: try await RequestInput.jsonBody(request, context: context), allowed: Self.updateMembers)
        let name = fields.has("name") ? try fields.requiredString("name", maxLength: 200) : nil
        let json = try await templates.update(userID: caller.userID, id: id, name: name, payload: try Self.payload(fields))
        return JSONResponse.make(.ok, text: json)
    }

    @Sendable func delete(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let id = try RequestInput.id(context, what: "template")
        try await templates.delete(userID: caller.userID, id: id)
        return Response(status: .noContent)
    }

    @Sendable func preview(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let id = try RequestInput.id(context, what: "template")
        let body = try await RequestInput.collect(request, context: context, limit: 65_536)
        var fields = try JSONFields(.object([:]), path: "", allowed: Self.previewMembers)
        if !body.isEmpty {
            try RequestInput.requireContentType(request, "application/json")
            fields = try JSONFields(parsing: body, allowed: Self.previewMembers)
        }
        let version = try fields.integer("version", range: 1...Int(Int32.max))
        let to = try fields.string("to", maxLength: 320)
        let variables = JSONValue.object(try fields.objectValue("variables") ?? [:])
        let json = try await templates.preview(userID: caller.userID, id: id, version: version, to: to, variables: variables)
        return JSONResponse.make(.ok, text: json)
    }

    private static func payload(_ fields: JSONFields) throws(APIError) -> JSONFields {
        guard let value = fields.object["payload"], value != .null else { throw APIError.invalid("payload", "is required") }
        return try JSONFields(value, path: "payload", allowed: BatchPayload.members)
    }

    /// A version number from the path: 404 when it is not one (no template has such a version).
    private static func version(_ text: String?, field: String) throws(APIError) -> Int {
        guard let text, text.utf8.count <= 10, let number = Int(text), (1...Int(Int32.max)).contains(number) else {
            throw APIError.notFound("that version", field: field)
        }
        return number
    }
}
