import Hummingbird

/// Gives every request the deployment's body timeout (`[api] body_timeout_ms`), which the routes'
/// body readers keep to.
struct BodyTimeoutMiddleware: RouterMiddleware {
    let timeout: Duration

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        var context = context
        context.bodyTimeout = timeout
        return try await next(request, context)
    }
}
