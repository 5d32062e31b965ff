import Foundation
import ProviderModel

/// A host's log in a file (`serve --log-format json` with its standard error there), read as its lines'
/// objects: what a test waits on when the host shows a step only in its log.
public struct HostLog: Sendable {
    public let path: String

    /// A new, empty log file under the run's scratch folder.
    public init(name: String) throws {
        path = TestPaths.scratch.appendingPathComponent("\(UUID().uuidString)-\(name).log").path
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw TestSupportError("cannot create \(path): is the temporary folder writable?")
        }
    }

    /// Each JSON line's members, with their values as text; lines that are no JSON object are left out.
    public func entries() -> [[String: String]] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            JSONValue.parse(Array(line.utf8))?.objectValue?.compactMapValues { $0.stringValue }
        }
    }

    /// The entries whose message is `message` and whose members include every one of `members`.
    public func entries(message: String, _ members: [String: String] = [:]) -> [[String: String]] {
        entries().filter { entry in entry["message"] == message && members.allSatisfy { entry[$0.key] == $0.value } }
    }
}
