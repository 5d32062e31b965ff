import HTTPTypes
import Hummingbird

/// The browser-side defences every dashboard answer carries (pages, error pages, redirects, assets):
/// no framing by other sites (against clickjacking), no content-type sniffing, no full URL in the Referer
/// sent elsewhere, and a Content-Security-Policy that lets scripts come only from `/assets`.
/// Styles may be inline: the progress bars set their width so, and a message's HTML preview (a sandboxed
/// `srcdoc` frame, which inherits this policy) keeps the inline styles and https images emails are made of.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = WebContext

    static let contentSecurityPolicy = [
        "default-src 'none'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data: https:",
        "connect-src 'self'", "form-action 'self'", "frame-src 'self'", "base-uri 'none'", "frame-ancestors 'none'",
    ].joined(separator: "; ")

    static let fields: [(HTTPField.Name, String)] = [
        (HTTPField.Name("Content-Security-Policy")!, contentSecurityPolicy),
        (HTTPField.Name("X-Frame-Options")!, "DENY"),
        (HTTPField.Name("X-Content-Type-Options")!, "nosniff"),
        (HTTPField.Name("Referrer-Policy")!, "same-origin"),
    ]

    func handle(_ request: Request, context: WebContext, next: (Request, WebContext) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        for (name, value) in Self.fields { response.headers[name] = value }
        return response
    }
}
