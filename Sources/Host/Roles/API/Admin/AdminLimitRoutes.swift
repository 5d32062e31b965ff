import Analytics
import Domain
import HostCore
import Hummingbird
import Services
import Messaging
import Persistence
import ProviderInstances
import ProviderModel

/// `/admin/limits…`: the operators read and change the deployment's sending limits live. A change is
/// kept in PostgreSQL (and the audit log) and written to the Redis hash every sender reads on every
/// chunk, so it acts within one chunk's round trip in every running process. Deleting an override
/// goes back to the host config's limit.
struct AdminLimitRoutes {
    let limits: LimitService
    /// The loaded plugins' ids: a limit for a provider this deployment cannot send through is a 404.
    let providers: Set<String>

    func register(on group: RouterGroup<APIContext>) {
        group.get("limits", use: list)
        group.put("limits/system") { request, context in try await set(RateBuckets.systemField(), request, context) }
        group.delete("limits/system") { _, _ in try await clear(RateBuckets.systemField()) }
        group.put("limits/providers/:provider") { request, context in try await set(try providerField(context), request, context) }
        group.delete("limits/providers/:provider") { _, context in try await clear(try providerField(context)) }
        group.get("limits/send-configs/:id", use: sendConfig)
        group.put("limits/send-configs/:id") { request, context in
            let id = try await existingConfig(context)
            return try await set(RateBuckets.configField(id), request, context)
        }
        group.delete("limits/send-configs/:id") { _, context in try await clear(RateBuckets.configField(try await existingConfig(context))) }
    }

    /// Every level's limit now, and where it comes from (`admin` override, host `config`, or `none`).
    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
        let overrides = try await self.limits.overrides()
        let limits = self.limits.buckets.limits
        func level(_ field: String, _ configured: Int?) -> JSONValue {
            if let value = overrides[field] { return .object(["perSecond": .number(Double(value)), "source": .string("admin")]) }
            if let configured { return .object(["perSecond": .number(Double(configured)), "source": .string("config")]) }
            return .object(["perSecond": .null, "source": .string("none")])
        }
        let providerLevels = providers.sorted().map { provider -> JSONValue in
            .object(["provider": .string(provider), "managed": level(RateBuckets.providerField(provider), limits.managedLimit(provider: provider)),
                     "byokDefault": .number(Double(limits.configDefault(provider: provider)))])
        }
        let configs = overrides.keys.sorted().compactMap { field -> JSONValue? in
            RateBuckets.sendConfigID(ofField: field).map {
                .object(["id": .string($0), "perSecond": .number(Double(overrides[field]!)), "source": .string("admin")])
            }
        }
        return JSONResponse.make(.ok, .object(["system": level(RateBuckets.systemField(), limits.system),
                                               "providers": .array(providerLevels), "sendConfigs": .array(configs)]))
    }

    /// One send-config's limit: its override, its own `rateLimit`, the default, and which one acts.
    @Sendable func sendConfig(_ request: Request, context: APIContext) async throws -> Response {
        let id = try RequestInput.id(context, what: "send-config")
        let row = try await limits.sendConfig(id: id)
        let provider = row.provider, managed = row.managed, own = row.rateLimit
        let overrides = try await limits.overrides()
        let override = overrides[RateBuckets.configField(id)]
        let fallback: Int? = managed ? nil : limits.buckets.limits.configDefault(provider: provider)
        let effective = override ?? own ?? fallback
        let source = override != nil ? "admin" : own != nil ? "sendConfig" : fallback != nil ? "providerDefault" : "none"
        func number(_ value: Int?) -> JSONValue { value.map { .number(Double($0)) } ?? .null }
        var body: [String: JSONValue] = ["id": .string(id), "userId": .string(row.userID), "provider": .string(provider),
                                         "mode": .string(managed ? "managed" : "byok"), "override": number(override),
                                         "rateLimit": number(own), "perSecond": number(effective), "source": .string(source)]
        if managed {
            let shared = RateBuckets.providerField(provider)
            body["sharedProviderLimit"] = number(overrides[shared] ?? limits.buckets.limits.managedLimit(provider: provider))
        }
        return JSONResponse.make(.ok, .object(body))
    }

    private func providerField(_ context: APIContext) throws(APIError) -> String {
        guard let provider = context.parameters.get("provider"), providers.contains(provider) else {
            throw APIError.notFound("provider (this deployment loads \(providers.sorted().joined(separator: ", ")))", field: "path.provider")
        }
        return RateBuckets.providerField(provider)
    }

    private func existingConfig(_ context: APIContext) async throws -> String {
        let id = try RequestInput.id(context, what: "send-config")
        _ = try await limits.sendConfig(id: id)
        return id
    }

    private func set(_ field: String, _ request: Request, _ context: APIContext) async throws -> Response {
        let fields = try JSONFields(parsing: try await RequestInput.jsonBody(request, context: context), allowed: ["perSecond"])
        guard let limit = try fields.integer("perSecond", range: SendRateLimits.range) else {
            throw APIError.invalid("perSecond", "is required: the limit in messages per second")
        }
        try await limits.set(field: field, perSecond: limit)
        return JSONResponse.make(.ok, .object(["field": .string(field), "perSecond": .number(Double(limit)), "source": .string("admin")]))
    }

    private func clear(_ field: String) async throws -> Response {
        try await limits.clear(field: field)
        return Response(status: .noContent)
    }
}
