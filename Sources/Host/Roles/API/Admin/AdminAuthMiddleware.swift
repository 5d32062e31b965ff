import Hummingbird
import ProviderCrypto
import Services

/// `Authorization: Bearer <admin token>` on `/admin/*`: the operators' token from `[admin]`, compared in
/// constant time. A user's API key is refused with 403 (it is a valid credential, just not for this).
struct AdminAuthMiddleware: RouterMiddleware {
    typealias Context = APIContext
    let token: String?

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        guard let token else {
            throw APIError.unavailable("the admin API is off: this deployment sets no [admin] token")
        }
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw APIError.unauthorized("send the admin token as Authorization: Bearer …")
        }
        let given = String(header.dropFirst("bearer ".count)).trimmingWhitespace()
        if APIKeyToken.looksValid(given) { throw APIError.forbidden("a user API key cannot use the admin API; use the operators' admin token") }
        guard Digest.constantTimeEqual(Array(given.utf8), Array(token.utf8)) else {
            throw APIError.unauthorized("the admin token is wrong")
        }
        return try await next(request, context)
    }
}
