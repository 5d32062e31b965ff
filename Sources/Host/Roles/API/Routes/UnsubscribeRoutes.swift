import HTTPTypes
import Hummingbird
import Services
import Templating

/// `GET/POST /unsubscribe/{token}`: the links of one-click unsubscribe (RFC 8058), outside `/api` and without a
/// key, since the recipient's mail client follows them. `POST` (the client's one click, or the confirm page's
/// button) suppresses the address and answers 200; `GET` only shows a page that asks, because link scanners
/// fetch every URL in a message and must not unsubscribe anyone. No cookie or CSRF token is asked for: the
/// unguessable token is the authority, as RFC 8058 intends. The answers are small HTML pages; a link that is
/// not ours is the API's 404, in its error shape.
struct UnsubscribeRoutes {
    let unsubscribe: UnsubscribeService

    /// What a POST may carry: `List-Unsubscribe=One-Click` is 26 bytes.
    static let bodyLimit = 4_096

    func register(on router: RouterGroup<APIContext>) {
        router.get("unsubscribe/{token}", use: confirm)
        router.post("unsubscribe/{token}", use: unsubscribeNow)
    }

    @Sendable func confirm(_ request: Request, context: APIContext) async throws -> Response {
        let subscriber = try unsubscribe.subscriber(context.parameters.get("token") ?? "")
        return Self.page(.ok, title: "Unsubscribe", body: """
            <p>Stop emails from this sender to <strong>\(Self.escape(subscriber.address))</strong>?</p>
            <form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">
            <button type="submit" id="unsubscribe">Unsubscribe</button></form>
            """)
    }

    @Sendable func unsubscribeNow(_ request: Request, context: APIContext) async throws -> Response {
        let token = context.parameters.get("token") ?? ""
        // A token that is not ours is answered before its body is read.
        _ = try unsubscribe.subscriber(token)
        // The body says nothing the token does not (RFC 8058's is fixed); it is read, within a bound, and set aside.
        _ = try await RequestInput.collect(request, context: context, limit: Self.bodyLimit)
        let address = try await unsubscribe.unsubscribe(token)
        return Self.page(.ok, title: "Unsubscribed", body: "<p id=\"unsubscribed\">\(Self.escape(address)) will get no more emails from this sender.</p>")
    }

    /// A page that loads nothing: no script, style or frame, and forms post only here.
    static func page(_ status: HTTPResponse.Status, title: String, body: String) -> Response {
        let html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title)</title></head>
            <body><main><h1>\(title)</h1>
            \(body)
            </main></body></html>
            """
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"]
        headers[HTTPField.Name("Content-Security-Policy")!] = "default-src 'none'; form-action 'self'; frame-ancestors 'none'"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func escape(_ text: String) -> String { PlainTemplate.escapedHTML(text) }
}
