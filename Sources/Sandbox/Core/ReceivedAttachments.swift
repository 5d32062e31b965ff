import ProviderCrypto
import ProviderModel
import Synchronization

/// A file an email carried, as the sandbox received it: decoded from base64 and fingerprinted, so a test can
/// tell the bytes reached the provider intact (`GET /sandbox/attachments?provider=`).
struct ReceivedAttachment: Sendable {
    var filename: String
    var contentType: String
    var size: Int
    var sha256: String
}

/// Reads the files of one email in the provider's own JSON, refusing what the provider refuses.
enum ReceivedAttachments {
    /// Both Resend and SES take an email of up to 40 MB, files base64-encoded.
    static let maxEncodedBytes = 40_000_000

    /// Why a file list cannot be read (the provider's words go around it).
    struct Problem: Error { var message: String }

    /// `[{filename, content, content_type?}]` (Resend) or `[{FileName, RawContent, ContentType?}]` (SES).
    static func read(_ value: JSONValue?, names: (filename: String, content: String, type: String)) throws(Problem) -> [ReceivedAttachment] {
        guard let value, value != .null else { return [] }
        guard let list = value.arrayValue else { throw Problem(message: "must be an array") }
        var files: [ReceivedAttachment] = []
        var encoded = 0
        for (index, item) in list.enumerated() {
            guard let filename = item[names.filename]?.stringValue, !filename.isEmpty else {
                throw Problem(message: "[\(index)] needs a non-empty `\(names.filename)`")
            }
            guard let text = item[names.content]?.stringValue else { throw Problem(message: "[\(index)] needs `\(names.content)`, the file as base64") }
            // Strict, as the providers' decoders are: a plugin that sent URL-safe or broken base64 would mail a corrupt file.
            guard let bytes = Base64.decode(text) else { throw Problem(message: "[\(index)].\(names.content) is not valid base64") }
            encoded += text.utf8.count
            let type = item[names.type]?.stringValue ?? ""
            files.append(ReceivedAttachment(filename: filename, contentType: type, size: bytes.count, sha256: Encoding.hex(Digest.sha256(bytes))))
        }
        guard encoded <= maxEncodedBytes else { throw Problem(message: "come to \(encoded) bytes encoded; the limit is \(maxEncodedBytes)") }
        return files
    }

    /// What a recipient reads of the files, for the duplicate count: the same text with other files is other content.
    static func contentParts(_ files: [ReceivedAttachment]) -> [String] {
        files.flatMap { [$0.filename, $0.sha256] }
    }
}

/// The files accepted, per provider, in arrival order: the first `capacity` of them.
final class AttachmentLog: Sendable {
    private let entries = Mutex<[SandboxProvider: [(to: String, file: ReceivedAttachment)]]>([:])
    let capacity: Int

    init(capacity: Int = 10_000) { self.capacity = capacity }

    func record(_ provider: SandboxProvider, to recipients: [String], files: [ReceivedAttachment]) {
        entries.withLock { entries in
            for recipient in recipients {
                for file in files where entries[provider, default: []].count < capacity {
                    entries[provider, default: []].append((recipient, file))
                }
            }
        }
    }

    func entries(_ provider: SandboxProvider) -> [(to: String, file: ReceivedAttachment)] { entries.withLock { $0[provider] ?? [] } }

    func reset() { entries.withLock { $0 = [:] } }
}
