import Analytics
import Domain
import HostCore
import Hummingbird
import Messaging
import Persistence
import ProviderInstances
import ProviderModel
import Templating

/// `POST/GET /api/send-configs`, `GET/PATCH/DELETE /api/send-configs/{id}`:
/// a user's provider accounts. Credentials go in sealed and come out masked.
struct SendConfigRoutes {
    let database: Database
    let vault: CredentialVault
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
        let sealed = vault.seal(input.credentials)
        let row = try await database.transaction(conflict: SendConfigStore.conflict) { db in
            try SendConfigStore.insert(db, userID: caller.userID, input: input, sealed: sealed)
        }
        return JSONResponse.make(.created, try present(row))
    }

    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let rows = try await database.run { db in try SendConfigStore.list(db, userID: caller.userID) }
        var presented: [String] = []
        for row in rows { presented.append(try present(row).compactText) }
        return JSONResponse.page(presented, nextCursor: nil)
    }

    @Sendable func show(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let id = try RequestInput.id(context, what: "send-config")
        guard let row = try await database.run({ db in try SendConfigStore.find(db, userID: caller.userID, id: id) }) else {
            throw APIError.notFound("send-config \(id)", field: "path.id")
        }
        return JSONResponse.make(.ok, try present(row))
    }

    @Sendable func update(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let id = try RequestInput.id(context, what: "send-config")
        let fields = try JSONFields(parsing: try await RequestInput.jsonBody(request, context: context), allowed: SendConfigInput.members)
        let vault = self.vault, configuration = self.configuration
        let row = try await database.transaction(conflict: SendConfigStore.conflict) { db in
            guard let current = try SendConfigStore.find(db, userID: caller.userID, id: id, forUpdate: true) else {
                throw APIError.notFound("send-config \(id)", field: "path.id")
            }
            let stored = SendConfigInput(stored: JSONValue.parse(Array(current.json.utf8)) ?? .null,
                                         credentials: try vault.open(ciphertextHex: current.sealed, nonceHex: current.nonce))
            let changed = try SendConfigInput(updating: stored, with: fields, configuration: configuration)
            return try SendConfigStore.update(db, userID: caller.userID, id: id, input: changed, sealed: vault.seal(changed.credentials))
        }
        return JSONResponse.make(.ok, try present(row))
    }

    @Sendable func delete(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let id = try RequestInput.id(context, what: "send-config")
        let deleted = try await database.transaction { db in try SendConfigStore.delete(db, userID: caller.userID, id: id) }
        guard deleted else { throw APIError.notFound("send-config \(id)", field: "path.id") }
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

    /// The stored row with its credentials opened and masked by the plugin's secret keys.
    private func present(_ row: SendConfigStore.Row) throws(APIError) -> JSONValue {
        guard case .object(var object)? = JSONValue.parse(Array(row.json.utf8)) else { throw APIError.internal() }
        let credentials: [String: JSONValue]
        do { credentials = try vault.open(ciphertextHex: row.sealed, nonceHex: row.nonce) } catch { throw APIError.internal(error.description) }
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
