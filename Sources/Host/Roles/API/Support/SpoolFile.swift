#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOPosix
import Services

/// A temporary file that a request's body or checked rows go to while the client is still sending, so
/// that no database connection or transaction waits on a slow client and memory stays flat however
/// many uploads run at once. The file is unlinked as soon as it is made: it vanishes when closed, or if
/// the process dies. Blocking file calls run on NIO's thread pool, never on the cooperative pool. The
/// last piece (and a small body whole) stays in memory: a request of a few recipients never waits for
/// that pool behind a large upload. One task uses a spool at a time.
final class SpoolFile: @unchecked Sendable {
    private let descriptor: Int32
    private(set) var size = 0
    private var pending: [UInt8] = []
    /// Appends are written in pieces of about this size.
    static let pieceBytes = 256 << 10

    init() throws(APIError) {
        var template = Array((NSTemporaryDirectory() + "/batchsender-upload-XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw APIError.unavailable("no room to receive the upload (temporary file: errno \(errno)); retry shortly") }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Buffers `bytes`, writing a piece to the file whenever enough has built up.
    func append(_ bytes: some Collection<UInt8>) async throws(APIError) {
        pending.append(contentsOf: bytes)
        if pending.count >= Self.pieceBytes { try await flush() }
    }

    /// Bytes appended so far, written or not.
    var length: Int { size + pending.count }

    /// `append` for a thread that may block (NIO's pool, a storage thread).
    func appendBlocking(_ bytes: some Collection<UInt8>) throws(APIError) {
        pending.append(contentsOf: bytes)
        guard pending.count >= Self.pieceBytes else { return }
        try flushBlocking()
    }

    private func flushBlocking() throws(APIError) {
        guard !pending.isEmpty else { return }
        do { try write(pending) } catch { throw Self.failed(error) }
        pending.removeAll(keepingCapacity: true)
    }

    private static func failed(_ error: any Error) -> APIError {
        APIError.unavailable("the upload could not be kept while it arrived (\(error)); retry shortly")
    }

    private func flush() async throws(APIError) {
        guard !pending.isEmpty else { return }
        let piece = pending
        pending.removeAll(keepingCapacity: true)
        do { try await NIOThreadPool.singleton.runIfActive { try self.write(piece) } } catch { throw Self.failed(error) }
    }

    private func write(_ piece: [UInt8]) throws {
        try piece.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = pwrite(descriptor, bytes.baseAddress! + offset, bytes.count - offset, off_t(size + offset))
                if written < 0 {
                    if errno == EINTR { continue }
                    throw SpoolError(errno: errno)
                }
                offset += written
            }
        }
        size += piece.count
    }

    /// Whether everything appended is still in memory, so reading it blocks on nothing.
    var isInMemory: Bool { size == 0 }

    /// Everything appended, from the start, in pieces: blocking unless `isInMemory`, so for a storage or
    /// pool thread.
    func read(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var buffer = [UInt8](repeating: 0, count: size > 0 ? Self.pieceBytes : 0)
        var offset = 0
        while offset < size {
            let count = try buffer.withUnsafeMutableBytes { bytes in
                while true {
                    let count = pread(descriptor, bytes.baseAddress!, min(bytes.count, size - offset), off_t(offset))
                    if count < 0 && errno == EINTR { continue }
                    guard count > 0 else { throw SpoolError(errno: count < 0 ? errno : EIO) }
                    return count
                }
            }
            try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            offset += count
        }
        if !pending.isEmpty { try pending.withUnsafeBytes { try body($0) } }
    }
}

struct SpoolError: Error, CustomStringConvertible {
    var errno: Int32
    var description: String { "temporary file: \(String(cString: strerror(errno)))" }
}
