import Domain
import HostCore
import Hummingbird
import Logging
import Persistence
import ProviderInstances
import Services

/// Turns every failure into the API's JSON error shape: Hummingbird's own
/// (unknown route, body too large) and anything unexpected, which is logged
/// and answered as a bare 500 so that no internals leak.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = APIContext
    /// What a served path's other methods are, for a 405.
    let routes: RouteMethods

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as HTTPError {
            let allowed = error.status == .notFound ? routes.allowed(request.uri.path) : []
            let mapped: APIError = switch error.status {
            case .notFound where !allowed.isEmpty:
                APIError.methodNotAllowed(request.method.rawValue, path: request.uri.path, allowed: allowed)
            case .notFound: APIError.notFound("route \(request.method) \(request.uri.path)")
            case .methodNotAllowed: APIError.methodNotAllowed(request.method.rawValue, path: request.uri.path, allowed: routes.allowed(request.uri.path))
            case .contentTooLarge: APIError.tooLarge("the body is larger than this route accepts", field: "body")
            default: APIError(error.status, code: "http_error", error.body ?? error.status.reasonPhrase)
            }
            return try mapped.response(from: request, context: context)
        } catch let busy as ConnectionPoolBusy {
            // Every connection is held (a burst, or slow clients): say so and when to come back, rather than queue for good.
            context.logger.warning("request refused: the pool is busy", metadata: ["path": "\(request.uri.path)", "error": "\(busy)"])
            return try APIError.busy().response(from: request, context: context)
        } catch {
            context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return try APIError.internal().response(from: request, context: context)
        }
    }
}
