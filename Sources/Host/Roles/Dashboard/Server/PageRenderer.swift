import Foundation
import Hummingbird
import Mustache
import NIOCore

/// The dashboard's HTML: swift-mustache templates shipped in the module's resources, every page a child of
/// `layout` (navigation, the signed-in user, the CSRF token the page's forms carry). Values are escaped as
/// HTML by the templates' `{{…}}`; nothing is written raw but the server's own SVG charts.
struct PageRenderer: Sendable {
    let library: MustacheLibrary

    static func load() async throws -> PageRenderer {
        guard let folder = Bundle.module.url(forResource: "Templates", withExtension: nil) else {
            throw WebStartError("the dashboard's templates (Templates in the batchsender_WebDashboard.resources folder beside the executable) are missing; reinstall the build")
        }
        return PageRenderer(library: try await MustacheLibrary(directory: folder.path))
    }

    func page(_ template: String, _ values: [String: Any], context: WebContext, status: HTTPResponse.Status = .ok) -> Response {
        var all = values
        all["csrf"] = context.csrfToken
        if let session = context.session { all["user"] = ["email": session.email] }
        all["nav_" + (values["section"] as? String ?? template)] = true
        let html = library.render(all, withTemplate: template) ?? "<!doctype html><title>Error</title><p>The page \(template) has no template."
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }
}

public struct WebStartError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
