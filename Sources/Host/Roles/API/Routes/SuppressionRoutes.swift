import Hummingbird
import Services
import ProviderModel

/// `POST/GET/DELETE /api/suppressions`: addresses a user never sends to again.
/// Recipients uploaded later with a suppressed address are stored as `suppressed`.
struct SuppressionRoutes {
    let suppressions: SuppressionService

    static let reasons = SuppressionService.reasons

    func register(on group: RouterGroup<APIContext>) {
        group.post("suppressions", use: add)
        group.get("suppressions", use: list)
        group.delete("suppressions", use: remove)
    }

    @Sendable func add(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let fields = try JSONFields(parsing: try await RequestInput.jsonBody(request, context: context), allowed: ["address", "reason"])
        let address = try Self.address(try fields.requiredString("address", maxLength: 320), field: "address")
        let reason = try fields.string("reason", maxLength: 32) ?? "manual"
        guard Self.reasons.contains(reason) else {
            throw APIError.invalid("reason", "must be one of \(Self.reasons.sorted().joined(separator: ", "))")
        }
        let row = try await suppressions.add(userID: caller.userID, address: address, reason: reason)
        let status: HTTPResponse.Status = row.created ? .created : .ok
        return JSONResponse.make(status, text: row.json)
    }

    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let limit = try RequestInput.limit(request, fallback: 100, max: 1_000)
        let cursor = request.uri.queryParameters.get("cursor")
        let page = try await suppressions.list(userID: caller.userID, after: cursor, limit: limit)
        return JSONResponse.page(page.rows, nextCursor: page.next)
    }

    @Sendable func remove(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        guard let text = request.uri.queryParameters.get("address") else {
            throw APIError.invalid("query.address", "name the address to remove: DELETE /api/suppressions?address=…")
        }
        let address = try Self.address(String(text), field: "query.address")
        try await suppressions.remove(userID: caller.userID, address: address)
        return Response(status: .noContent)
    }

    /// An email address or an E.164 number, in the canonical form recipients are stored in.
    static func address(_ text: String, field: String) throws(APIError) -> String {
        let channel: Channel = text.contains("@") ? .email : .sms
        switch RecipientAddress.normalize(text, channel: channel) {
        case .success(let address): return address
        case .failure(let problem): throw APIError.invalid(field, "must be an email address or an E.164 number: \(problem.reason)")
        }
    }
}
