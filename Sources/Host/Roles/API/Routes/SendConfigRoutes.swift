import Analytics
import Domain
import HostCore
import Hummingbird
import Messaging
import Persistence
import ProviderInstances
import ProviderModel
import Services
import Templating

/// `POST/GET /api/send-configs`, `GET/PATCH/DELETE /api/send-configs/{id}`:
/// a user's provider accounts. Credentials go in sealed and come out masked.
struct SendConfigRoutes {
    let configs: SendConfigService
    let configuration: APIConfiguration

    func register(on group: RouterGroup<APIContext>) {
        group.post("send-configs", use: create)
        group.get("send-configs", use: list)
        group.get("send-configs/{id}", use: show)
        group.patch("send-configs/{id}", use: update)
        group.delete("send-configs/{id}", use: delete)
    }

    @Sendable func create(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let fields = try JSONFields(parsing: try await RequestInput.jsonBody(request, context: context), allowed: SendConfigInput.members)
        let input = try SendConfigInput(creating: fields, configuration: configuration)
        let created = try await configs.create(userID: caller.userID, fields: input.fields, credentials: input.credentials)
        return JSONResponse.make(.created, try present(created))
    }

    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        var presented: [String] = []
        for config in try await configs.list(userID: caller.userID) { presented.append(try present(config).compactText) }
        return JSONResponse.page(presented, nextCursor: nil)
    }

    @Sendable func show(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let id = try RequestInput.id(context, what: "send-config")
        return JSONResponse.make(.ok, try present(try await configs.find(userID: caller.userID, id: id)))
    }

    @Sendable func update(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let id = try RequestInput.id(context, what: "send-config")
        let fields = try JSONFields(parsing: try await RequestInput.jsonBody(request, context: context), allowed: SendConfigInput.members)
        let configuration = self.configuration
        let updated = try await configs.update(userID: caller.userID, id: id) { current in
            let stored = SendConfigInput(stored: .object(current.row.json), credentials: current.credentials)
            let changed = try SendConfigInput(updating: stored, with: fields, configuration: configuration)
            return (changed.fields, changed.credentials)
        }
        return JSONResponse.make(.ok, try present(updated))
    }

    @Sendable func delete(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let id = try RequestInput.id(context, what: "send-config")
        try await configs.delete(userID: caller.userID, id: id)
        return Response(status: .noContent)
    }

    /// Secret values masked. A secret map (custom-webhook `headers`, which often carry `Authorization`) keeps
    /// its names with each value masked: the user still sees which headers are set, never what they say.
    static func masked(_ credentials: [String: JSONValue], secretKeys: Set<String>) -> [String: JSONValue] {
        var result = CredentialVault.masked(credentials, secretKeys: secretKeys)
        for key in secretKeys {
            guard case .object(let map)? = credentials[key] else { continue }
            result[key] = .object(CredentialVault.masked(map, secretKeys: Set(map.keys)))
        }
        return result
    }

    /// The stored row with its credentials masked by the plugin's secret keys.
    private func present(_ config: SendConfigService.Opened) throws(APIError) -> JSONValue {
        let row = config.row, credentials = config.credentials
        var object = row.json
        // A plugin no longer loaded has no declared secrets: every value is masked then.
        let secrets = configuration.providers[row.provider].map { Set($0.configKeys.filter(\.secret).map(\.name)) }
            ?? Set(credentials.keys)
        object["credentials"] = .object(Self.masked(credentials, secretKeys: secrets))
        // Where the provider sends this config's webhooks: its own URL (verified with its own secret), or for a
        // managed config the deployment's account's, which the operators set up once for every managed config.
        if configuration.providers[row.provider]?.interfaces.contains(where: { $0.hasPrefix("batchsender.webhook/") }) == true,
           case .string(let id)? = object["id"] {
            let managed = object["mode"] == .string("managed")
            object["webhookUrl"] = .string("\(configuration.webhookBaseURL)/webhooks/\(row.provider)" + (managed ? "" : "/\(id)"))
        }
        return .object(object)
    }
}
