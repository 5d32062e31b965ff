import Foundation
import Logging
import ProviderModel
import Synchronization

/// The host's log lines on standard error, as text or as one JSON object per line (`--log-format`):
/// `time`, `level`, `role` (where known), `message`, then the metadata (batch, sendConfig, provider,
/// error…). What could carry a secret is redacted first (see `LogRedaction`) in both formats, so a log
/// collector never stores a password from a URL or the value of a secret-named key.
public struct HostLogHandler: LogHandler {
    public enum Format: String, Sendable, CaseIterable { case text, json }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let format: Format
    private let sink: @Sendable ([UInt8]) -> Void

    /// `sink` takes each line (standard error unless a test looks at the lines itself).
    public init(label: String, format: Format, sink: @escaping @Sendable ([UInt8]) -> Void = HostLogHandler.standardError) {
        self.label = label
        self.format = format
        self.sink = sink
    }

    public static let standardError: @Sendable ([UInt8]) -> Void = { line in
        let data = Data(line)
        output.withLock { _ in FileHandle.standardError.write(data) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let level = event.level, message = event.message
        var merged = self.metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        if let error = event.error { merged["error"] = .string("\(error)") }
        let time = ISO8601.extendedUTC(milliseconds: Int64(Date().timeIntervalSince1970 * 1_000))
        let role = merged.removeValue(forKey: "role").map { "\($0)" }
        let fields = merged.keys.sorted().map { ($0, LogRedaction.redact(key: $0, "\(merged[$0]!)")) }
        let text = LogRedaction.redact(message.description)
        var bytes: [UInt8]
        switch format {
        case .json:
            var writer = JSONWriter(capacity: 256)
            writer.beginObject()
            writer.member("time", time)
            writer.member("level", level.rawValue)
            if let role { writer.member("role", role) }
            writer.member("logger", label)
            writer.member("message", text)
            for (key, value) in fields where !["time", "level", "role", "logger", "message"].contains(key) { writer.member(key, value) }
            writer.endObject()
            bytes = writer.bytes
        case .text:
            let context = fields.map { " \($0.0)=\($0.1)" }.joined()
            bytes = Array("\(time) \(level) \(label)\(role.map { "[\($0)]" } ?? ""): \(text)\(context)".utf8)
        }
        bytes.append(UInt8(ascii: "\n"))
        sink(bytes)
    }

    /// Lines from several threads never interleave.
    private static let output = Mutex(())
}

/// What must never reach a log line: the password in a URL's `user:password@`, and the value of a
/// metadata key that names a secret.
public enum LogRedaction {
    static let secretKeys = ["password", "secret", "token", "api_key", "apikey", "authorization", "credential", "master_key"]

    public static func redact(key: String, _ value: String) -> String {
        let lower = key.lowercased()
        return secretKeys.contains(where: { lower.contains($0) }) ? "[redacted]" : redact(value)
    }

    /// `scheme://user:password@host` becomes `scheme://user:[redacted]@host`, wherever it appears.
    public static func redact(_ text: String) -> String {
        guard text.contains("://") else { return text }
        var out = ""
        var rest = Substring(text)
        while let scheme = rest.range(of: "://") {
            out += rest[..<scheme.upperBound]
            rest = rest[scheme.upperBound...]
            // The authority ends at the first /, ?, # or whitespace; a password is between its first ':' and its last '@'.
            let end = rest.firstIndex { "/?# \t\n\"'".contains($0) } ?? rest.endIndex
            let authority = rest[..<end]
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                out += authority[...colon] + "[redacted]" + authority[at...]
            } else {
                out += authority
            }
            rest = rest[end...]
        }
        return out + rest
    }
}

extension Logger {
    /// This logger, naming the role that logs.
    public func role(_ name: String) -> Logger {
        var logger = self
        logger[metadataKey: "role"] = .string(name)
        return logger
    }
}
