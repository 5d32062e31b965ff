import Hummingbird
import HTTPTypes
import HostCore

/// 429 with `Retry-After` once a caller has used its window: per client
/// address before authentication, per API key after it.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = APIContext

    enum Scope: Sendable { case address, apiKey }

    let limiter: SlidingWindowLimiter
    let scope: Scope
    let settings: RateLimitSettings
    let keyPrefix: String
    /// Proxies whose `X-Forwarded-For` names the client (`[api] trusted_proxies`).
    let trustedProxies: [IPNetwork]

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        let key: String, limit: Int
        switch scope {
        case .address:
            key = keyPrefix + "ratelimit:addr:" + Self.client(request, context, trusting: trustedProxies)
            limit = settings.perAddress
        case .apiKey:
            guard let identity = context.identity else { return try await next(request, context) }
            key = keyPrefix + "ratelimit:key:" + identity.keyID
            limit = settings.perKey
        }
        let decision = try await limiter.admit(key, limit: limit, windowMilliseconds: settings.windowMilliseconds)
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

    /// The client's IP without its port; requests without one (in-process tests) share "local".
    static func client(_ request: Request, _ context: APIContext, trusting proxies: [IPNetwork]) -> String {
        var forwarded: [String] = []
        for value in request.headers[values: HTTPField.Name("X-Forwarded-For")!] {
            forwarded += value.split(separator: ",").map { String($0).trimmingWhitespace() }
        }
        return client(peer: context.remoteAddress?.ipAddress, forwardedFor: forwarded, trusting: proxies)
    }

    /// Behind trusted proxies the client is the nearest address in `X-Forwarded-For` that is not one of
    /// them: what a client writes there itself is never believed past the first hop it does not control.
    static func client(peer: String?, forwardedFor hops: [String], trusting proxies: [IPNetwork]) -> String {
        guard var address = peer else { return "local" }
        for hop in hops.reversed() {
            guard let bytes = IPNetwork.parse(address), proxies.contains(where: { $0.contains(bytes) }),
                  IPNetwork.parse(hop) != nil else { break }
            address = hop
        }
        return address
    }
}
