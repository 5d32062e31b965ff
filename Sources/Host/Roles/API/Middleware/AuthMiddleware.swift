import Hummingbird
import Services

/// `Authorization: Bearer <api key>`: finds the key's owner (only a live key
/// counts) and puts it in the context; 401 otherwise, naming what was wrong.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = APIContext
    let keys: APIKeyService

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            throw APIError.unauthorized("send your API key as Authorization: Bearer bsk_…")
        }
        guard header.lowercased().hasPrefix("bearer ") else {
            throw APIError.unauthorized("the Authorization header must use the Bearer scheme")
        }
        let key = String(header.dropFirst("bearer ".count)).trimmingWhitespace()
        guard APIKeyToken.looksValid(key) else { throw APIError.unauthorized("this is not a BatchSender API key (they start with bsk_)") }
        guard let identity = try await keys.authenticate(key: key) else {
            throw APIError.unauthorized("the API key is unknown or revoked")
        }
        var context = context
        context.identity = identity
        return try await next(request, context)
    }
}
