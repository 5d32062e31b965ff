import Hummingbird
import HTTPTypes
import HostCore
import Persistence
import Services

/// 429 with `Retry-After` once a caller has used its window: per client
/// address before authentication, per API key after it.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = APIContext

    enum Scope: Sendable { case address, apiKey }

    let limiter: SlidingWindowLimiter
    let scope: Scope
    let settings: RateLimitSettings
    /// Who the client is (`[api] trusted_proxies`), as the dashboard's sign-in limits count it too.
    let clients: ClientAddress

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        let window: RequestWindows.Window, limit: Int
        switch scope {
        case .address:
            window = .address(ClientAddress.limitKey(clients.client(peer: context.remoteAddress?.ipAddress, headers: request.headers)))
            limit = settings.perAddress
        case .apiKey:
            guard let identity = context.identity else { return try await next(request, context) }
            window = .apiKey(identity.keyID)
            limit = settings.perKey
        }
        let decision = try await limiter.admit(window, limit: limit, windowMilliseconds: settings.windowMilliseconds)
        guard decision.allowed else {
            let seconds = max(1, (decision.retryAfterMilliseconds + 999) / 1_000)
            var error = APIError.rateLimited(retryAfterSeconds: seconds, scope: scope == .address ? "client address" : "API key")
            error.headers.append((HTTPField.Name("RateLimit-Limit")!, String(limit)))
            error.headers.append((HTTPField.Name("RateLimit-Remaining")!, "0"))
            throw error
        }
        var response = try await next(request, context)
        // Both windows apply; the headers describe the one closer to running out.
        let remainingName = HTTPField.Name("RateLimit-Remaining")!
        if let inner = response.headers[remainingName].flatMap({ Int($0) }), inner <= decision.remaining { return response }
        response.headers[HTTPField.Name("RateLimit-Limit")!] = String(limit)
        response.headers[remainingName] = String(decision.remaining)
        return response
    }
}
