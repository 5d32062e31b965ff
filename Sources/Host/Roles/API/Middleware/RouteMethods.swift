import Hummingbird
import Synchronization

/// The methods each route path is served with, so that a request with another method on a served path
/// is answered 405 with `Allow` rather than 404. Filled once the router has every route.
final class RouteMethods: Sendable {
    private let paths = Mutex<[(segments: [Substring], methods: Set<String>)]>([])

    func load(_ routes: [(method: String, path: String)]) {
        var grouped: [String: Set<String>] = [:]
        for route in routes { grouped[route.path, default: []].insert(route.method) }
        paths.withLock { $0 = grouped.map { (Self.segments($0.key), $0.value) } }
    }

    /// The methods served on `path`, empty when no route has that shape.
    func allowed(_ path: String) -> [String] {
        let given = Self.segments(path)
        let found = paths.withLock { paths in
            paths.filter { route in
                route.segments.count == given.count
                    && zip(route.segments, given).allSatisfy { pattern, segment in pattern.hasPrefix("{") || pattern == "*" || pattern == segment }
            }.reduce(into: Set<String>()) { $0.formUnion($1.methods) }
        }
        return found.sorted()
    }

    private static func segments(_ path: String) -> [Substring] { path.split(separator: "/") }
}
