import Hummingbird

/// What the dashboard answers when a page is not served: a visitor without a session goes to sign in (a
/// script's request gets 401), a refusal becomes a page with its status and reason, anything else a 500
/// page that shows no internals.
struct WebErrorMiddleware: RouterMiddleware {
    typealias Context = WebContext
    let renderer: PageRenderer

    func handle(_ request: Request, context: WebContext, next: (Request, WebContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch WebRefusal.signIn {
            if request.method == .get { return PageRenderer.redirect("/login") }
            return page(.unauthorized, "Your session has ended: sign in again.", context: context)
        } catch WebRefusal.refused(let status, let reason) {
            return page(status, reason, context: context)
        } catch let error as HTTPError {
            return page(error.status, error.status == .notFound ? "There is no such page." : error.body ?? error.status.reasonPhrase, context: context)
        } catch {
            context.logger.error("dashboard page failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return page(.internalServerError, "Something went wrong on our side; it has been logged. Try again shortly.", context: context)
        }
    }

    private func page(_ status: HTTPResponse.Status, _ reason: String, context: WebContext) -> Response {
        renderer.page("error", ["title": status.reasonPhrase, "section": "error", "status": status.code, "reason": reason], context: context,
                      status: status)
    }
}
