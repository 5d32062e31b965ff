import Foundation
import Hummingbird
import NIOCore

/// The dashboard's stylesheet and script, shipped in the module's resources and read once at start.
struct Assets: Sendable {
    let files: [String: (type: String, bytes: [UInt8])]

    static func load() throws -> Assets {
        var files: [String: (type: String, bytes: [UInt8])] = [:]
        for (name, type) in [("app.css", "text/css; charset=utf-8"), ("app.js", "text/javascript; charset=utf-8")] {
            guard let url = Bundle.module.url(forResource: "Assets/\(name)", withExtension: nil) ?? Bundle.module.url(forResource: name, withExtension: nil),
                  let data = FileManager.default.contents(atPath: url.path) else {
                throw WebStartError("the dashboard's \(name) (in the batchsender_WebDashboard.resources folder beside the executable) is missing; reinstall the build")
            }
            files[name] = (type, Array(data))
        }
        return Assets(files: files)
    }

    func register(on router: Router<WebContext>) {
        router.get("assets/{name}") { _, context in
            guard let name = context.parameters.get("name"), let file = files[name] else { throw HTTPError(.notFound) }
            return Response(status: .ok, headers: [.contentType: file.type, .cacheControl: "public, max-age=300"],
                            body: .init(byteBuffer: ByteBuffer(bytes: file.bytes)))
        }
    }
}
