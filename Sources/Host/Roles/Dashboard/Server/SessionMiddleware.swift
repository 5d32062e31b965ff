import Domain
import HTTPTypes
import HostCore
import Hummingbird
import Messaging
import Persistence
import SenderAPI
import Services

/// Finds the browser's session from its cookie, gives an anonymous visitor a CSRF token of its own (the
/// `bs_csrf` cookie, which the sign-in forms repeat), and checks that every state-changing request
/// carries the right token: a form's `_csrf` field, or the `X-CSRF-Token` header of the pages' scripts.
/// A cross-site page can make the browser send the cookie, but cannot read the token to send with it.
/// It also names the client (`ClientAddress`, as the API does) and tells whether the browser came over TLS.
struct SessionMiddleware: RouterMiddleware {
    typealias Context = WebContext
    let sessions: SessionService
    let clients: ClientAddress

    /// The session cookie's name. Over TLS (through a trusted proxy) both cookies carry the `__Host-` prefix,
    /// which a browser keeps only with `Secure`, `Path=/` and no `Domain`: no sibling subdomain and no plain-http
    /// answer can set or shadow them, and only that name is read then. Browsers keep `Secure` cookies sent over
    /// plain http only from localhost, so a dashboard reached over plain http (a developer's loopback) uses the
    /// bare names, without `Secure`.
    static func sessionCookie(secure: Bool) -> String { (secure ? "__Host-" : "") + "bs_session" }
    /// The anonymous visitor's CSRF cookie's name, by the same rule.
    static func visitorCookie(secure: Bool) -> String { (secure ? "__Host-" : "") + "bs_csrf" }
    /// Forms are small; a CSV upload is a script's request, streamed, and never read here.
    static let formLimit = 1 << 20

    func handle(_ request: Request, context: WebContext, next: (Request, WebContext) async throws -> Response) async throws -> Response {
        var context = context
        let peer = context.remoteAddress?.ipAddress
        context.clientAddress = clients.client(peer: peer, headers: request.headers)
        // Over TLS only through a proxy we trust to say so: this server itself speaks plain HTTP.
        context.secure = request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https" && clients.trusts(peer: peer)
        if let token = request.cookies[Self.sessionCookie(secure: context.secure)]?.value, !token.isEmpty {
            context.session = try await sessions.find(token: token)
        }
        var newVisitorToken: String?
        if context.session == nil {
            if let token = request.cookies[Self.visitorCookie(secure: context.secure)]?.value, token.count == 32, token.allSatisfy(\.isHexDigit) {
                context.visitorToken = token
            } else {
                newVisitorToken = SessionService.token(bytes: 16)
                context.visitorToken = newVisitorToken
            }
        }
        var request = request
        if request.method != .get && request.method != .head {
            var sent = request.headers[HTTPField.Name("X-CSRF-Token")!]
            if sent == nil, request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true {
                let buffer = try await request.body.collect(upTo: Self.formLimit)
                let bytes = Array(buffer.readableBytesView)
                context.form = FormData(bytes)
                sent = context.form["_csrf"]
                request.body = .init(buffer: buffer)
            }
            // A visitor with no token cookie yet has no form from us: nothing they send can match.
            let expected = newVisitorToken == nil ? context.csrfToken : ""
            guard let sent, !expected.isEmpty, Self.same(sent, expected) else {
                throw WebRefusal.refused(.forbidden, "This form has expired or did not come from this site (its CSRF token is missing or wrong). Reload the page and try again.")
            }
        }
        var response = try await next(request, context)
        if let newVisitorToken {
            response.headers.append(HTTPField(name: .setCookie, value: Self.cookie(Self.visitorCookie(secure: context.secure), newVisitorToken, secure: context.secure)))
        }
        return response
    }

    static func cookie(_ name: String, _ value: String, secure: Bool, maxAge: Int? = nil) -> String {
        var text = "\(name)=\(value); Path=/; HttpOnly; SameSite=Lax"
        if let maxAge { text += "; Max-Age=\(maxAge)" }
        if secure { text += "; Secure" }
        return text
    }

    private static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
