import Foundation

/// A host config (the TOML `batchsender serve --config` reads) assembled from tables: a harness sets its
/// defaults, a test merges what it needs on top, and a key set twice keeps the later value instead of
/// making TOML that the host refuses for a duplicate key.
public struct HostConfigBuilder: Sendable {
    private var plugins: [String] = []
    /// Tables in the order first named; each one's keys in the order first set, with their TOML values.
    private var tables: [(name: String, entries: [(key: String, value: String)])] = []

    public init() {}

    /// A `[[plugin]]` entry loading the library at `path`.
    public mutating func plugin(path: String) { plugins.append(path) }

    /// Sets `key = value` in `[table]`; `value` is TOML as written (`"text"` with its quotes, `200`, `true`).
    public mutating func set(_ table: String, _ key: String, _ value: String) {
        let index = tables.firstIndex { $0.name == table } ?? {
            tables.append((table, []))
            return tables.count - 1
        }()
        if let existing = tables[index].entries.firstIndex(where: { $0.key == key }) {
            tables[index].entries[existing].value = value
        } else {
            tables[index].entries.append((key, value))
        }
    }

    /// `key = value` lines for `[table]`, as a test writes them; blank lines and comments are left out.
    public mutating func set(_ table: String, lines: String) {
        merge("[\(table)]\n" + lines)
    }

    /// TOML with its own `[table]` headers (`[limits]…`, `[managed.ses]…`), merged key by key.
    public mutating func merge(_ toml: String) {
        var table = ""
        for raw in toml.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                table = String(line.dropFirst().dropLast())
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { continue }
            set(table, line[..<equals].trimmingCharacters(in: .whitespaces), line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces))
        }
    }

    /// The config's text.
    public var text: String {
        var text = plugins.map { "[[plugin]]\npath = \"\($0)\"\n" }.joined()
        // Keys outside any table belong before the first header.
        for (name, entries) in tables.filter({ $0.name.isEmpty }) + tables.filter({ !$0.name.isEmpty }) where !entries.isEmpty {
            if !name.isEmpty { text += "[\(name)]\n" }
            text += entries.map { "\($0.key) = \($0.value)\n" }.joined()
        }
        return text
    }

    /// The config in a new file under the run's scratch folder; its path.
    public func write(name: String = "host.toml") throws -> String { try TestPaths.write(text, name: name) }
}
