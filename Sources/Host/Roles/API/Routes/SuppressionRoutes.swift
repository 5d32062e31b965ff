import Hummingbird
import ProviderModel

/// `POST/GET/DELETE /api/suppressions`: addresses a user never sends to again.
/// Recipients uploaded later with a suppressed address are stored as `suppressed`.
struct SuppressionRoutes {
    let database: Database

    static let reasons: Set<String> = ["manual", "bounce", "complaint", "unsubscribe"]
    static let suppressionJSON = "jsonb_build_object('address', address, 'reason', reason, 'source', source, 'createdAt', created_at)"

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
        let row = try await database.transaction { db in
            let rows = try db.query("""
                INSERT INTO suppressions (user_id, address, reason, source) VALUES ($1, $2, $3, 'api')
                ON CONFLICT (user_id, address) DO UPDATE SET reason = EXCLUDED.reason
                RETURNING \(Self.suppressionJSON)::text, (xmax = 0)
                """, [caller.userID, address, reason])
            try AuditLog.record(db, userID: caller.userID, action: "suppression.added", subject: "suppression", id: address)
            return (rows[0][0] ?? "{}", rows[0][1] == "t")
        }
        let status: HTTPResponse.Status = row.1 ? .created : .ok
        return JSONResponse.make(status, text: row.0)
    }

    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let limit = try RequestInput.limit(request, fallback: 100, max: 1_000)
        let cursor = request.uri.queryParameters.get("cursor")
        let page = try await database.run { db in
            let rows = try db.query("""
                SELECT \(Self.suppressionJSON)::text, address FROM suppressions
                WHERE user_id = $1 AND ($2::text IS NULL OR address > $2) ORDER BY address LIMIT $3
                """, [caller.userID, cursor, String(limit + 1)])
            let page = rows.prefix(limit)
            return (page.compactMap { $0[0] }, rows.count > limit ? page.last?[1] : nil)
        }
        return JSONResponse.page(page.0, nextCursor: page.1)
    }

    @Sendable func remove(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        guard let text = request.uri.queryParameters.get("address") else {
            throw APIError.invalid("query.address", "name the address to remove: DELETE /api/suppressions?address=…")
        }
        let address = try Self.address(String(text), field: "query.address")
        let removed = try await database.transaction { db in
            let rows = try db.query("DELETE FROM suppressions WHERE user_id = $1 AND address = $2 RETURNING address", [caller.userID, address])
            if !rows.isEmpty { try AuditLog.record(db, userID: caller.userID, action: "suppression.removed", subject: "suppression", id: address) }
            return !rows.isEmpty
        }
        guard removed else { throw APIError.notFound("suppression of \(address)", field: "query.address") }
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
