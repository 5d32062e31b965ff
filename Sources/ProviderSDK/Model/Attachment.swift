/// A file an email carries (message.h, `bsp_attachment`, ABI 1.2). Its bytes
/// live in one `AttachmentBytes` that every copy of a message shares: a
/// batch's 10 MiB file is held once however many recipients get it.
public struct Attachment: Sendable, Equatable {
    public var filename: String
    /// A media type such as "application/pdf"; empty lets the provider derive it.
    public var contentType: String
    public var content: AttachmentBytes

    public init(filename: String, contentType: String = "", content: AttachmentBytes) {
        self.filename = filename
        self.contentType = contentType
        self.content = content
    }

    /// The most files one message carries, and their bytes together: Resend and SES each take an email of up to
    /// 40 MB after base64 encoding; 10 MiB of files is 13.4 MB encoded, which leaves the body its room and keeps
    /// a chunk's requests within a sender's memory (`docs/api.md`, Attachments).
    public static let maxCount = 10
    public static let maxTotalBytes = 10 << 20
    public static let maxFilenameBytes = 255

    /// Why `filename` cannot name a file in an email; nil when it can. The name becomes a MIME parameter at the
    /// provider: quotes, slashes and control characters are refused rather than mangled there.
    public static func filenameProblem(_ filename: String) -> String? {
        let bytes = filename.utf8
        guard (1...maxFilenameBytes).contains(bytes.count) else { return "must be 1 to \(maxFilenameBytes) bytes" }
        for byte in bytes where byte < 0x20 || byte == 0x7f || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\"") {
            return "must not contain control characters, /, \\ or \""
        }
        if filename.unicodeScalars.contains(where: { (0x80...0x9f).contains($0.value) }) { return "must not contain control characters" }
        // Direction overrides make "invoice\u{202E}fdp.exe" read as "invoiceexe.pdf".
        if filename.unicodeScalars.contains(where: { (0x202a...0x202e).contains($0.value) || (0x2066...0x2069).contains($0.value) }) {
            return "must not contain text-direction controls"
        }
        return nil
    }

    /// Why `contentType` is not a media type a provider takes (`type/subtype`, RFC 6838 names, no parameters);
    /// nil when it is, or when it is empty.
    public static func contentTypeProblem(_ contentType: String) -> String? {
        guard !contentType.isEmpty else { return nil }
        let parts = contentType.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        let valid = contentType.utf8.count <= 127 && parts.count == 2 && parts.allSatisfy { part in
            !part.isEmpty && part.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    true
                case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "-"), UInt8(ascii: "^"),
                     UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "+"):
                    true
                default:
                    false
                }
            }
        }
        return valid ? nil : "must be a media type such as application/pdf (type/subtype, no parameters)"
    }
}

/// The immutable bytes of one attachment, allocated once and freed with the last reference. A C view of them
/// (`bsp_bytes`) stays valid while a `CArena` keeps the object (`CArena.bytes(_:)`), so handing a file to a
/// plugin copies nothing.
public final class AttachmentBytes: @unchecked Sendable, Equatable {
    // Written once in init, never after: safe to read from any thread.
    private let storage: UnsafeMutableRawBufferPointer

    public init(_ bytes: some Collection<UInt8>) {
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: Swift.max(bytes.count, 1), alignment: 16)
        _ = storage.initializeMemory(as: UInt8.self, from: bytes)
        count = bytes.count
    }

    /// A copy of `count` bytes at `pointer`; none when the pointer is NULL (a C view's rule).
    public init(copying pointer: UnsafeRawPointer?, count: Int) {
        let count = pointer == nil ? 0 : Swift.max(count, 0)
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: Swift.max(count, 1), alignment: 16)
        if let pointer, count > 0 { storage.baseAddress!.copyMemory(from: pointer, byteCount: count) }
        self.count = count
    }

    deinit { storage.deallocate() }

    public let count: Int

    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[0..<count]) }

    public var array: [UInt8] { Array(bytes) }

    public static func == (a: AttachmentBytes, b: AttachmentBytes) -> Bool {
        a === b || (a.count == b.count && a.bytes.elementsEqual(b.bytes))
    }
}
