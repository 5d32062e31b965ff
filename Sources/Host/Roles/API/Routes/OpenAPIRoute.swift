import Foundation
import Hummingbird

/// `GET /api/openapi.json`: the OpenAPI 3.1 document of every route, served as it is in the repository
/// (`Sources/Host/API/openapi.json`, a resource of this module). Tests hold it to the router (the same
/// routes), to the vocabularies (its status and event enums are the Swift lists), and to the server's
/// answers (schemathesis, `scripts/fuzz-api`).
struct OpenAPIRoute {
    let document: [UInt8]

    func register(on group: RouterGroup<APIContext>) {
        group.get("openapi.json") { _, _ in JSONResponse.make(.ok, document) }
    }
}

public enum OpenAPIDocument {
    /// The document's bytes, read once; nil when the module's resources were not installed beside the executable.
    public static let bytes: [UInt8]? = Bundle.module.url(forResource: "openapi", withExtension: "json")
        .flatMap { FileManager.default.contents(atPath: $0.path) }.map { Array($0) }
}
