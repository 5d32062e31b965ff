import CSSL

/// SHA-256 and HMAC-SHA256 on libcrypto. The digest is fetched from
/// OpenSSL's provider once: its one-shot helpers (`SHA256()`, `HMAC()`)
/// look the algorithm up on every call, which costs more than hashing a
/// webhook. HMAC is RFC 2104 over that digest. Safe from any thread.
public enum Digest {
    public static let sha256Length = 32

    public static func sha256(_ data: [UInt8]) -> [UInt8] {
        data.withUnsafeBufferPointer { sha256(parts: [UnsafeRawBufferPointer($0)]) }
    }

    public static func hmacSHA256(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        HMACKey(key).mac(data)
    }

    /// SHA-256 over `parts` in order, without joining them first.
    static func sha256(parts: [UnsafeRawBufferPointer]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: sha256Length)
        guard let context = EVP_MD_CTX_new() else { return out }
        defer { EVP_MD_CTX_free(context) }
        EVP_DigestInit_ex(context, sha256Algorithm, nil)
        for part in parts where part.count > 0 { EVP_DigestUpdate(context, part.baseAddress, part.count) }
        out.withUnsafeMutableBufferPointer { _ = EVP_DigestFinal_ex(context, $0.baseAddress, nil) }
        return out
    }

    /// Equality that takes the same time wherever the inputs differ: for
    /// comparing a received signature with the expected one.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        guard !a.isEmpty else { return true }
        return a.withUnsafeBytes { a in
            b.withUnsafeBytes { b in CRYPTO_memcmp(a.baseAddress, b.baseAddress, a.count) == 0 }
        }
    }

    /// Fetched once for the process; OpenSSL keeps it alive (never freed on purpose).
    nonisolated(unsafe) static let sha256Algorithm: OpaquePointer? = EVP_MD_fetch(nil, "SHA256", nil)
}

/// An HMAC-SHA256 key with its padded blocks absorbed once, so each MAC
/// hashes only the message: for a secret that signs or verifies many times
/// (a webhook secret). Immutable after init; `mac` may run on many threads.
public final class HMACKey: @unchecked Sendable {
    private let inner: OpaquePointer
    private let outer: OpaquePointer

    public init(_ key: [UInt8]) {
        let blockSize = 64
        var block = key.count > blockSize ? Digest.sha256(key) : key
        block += [UInt8](repeating: 0, count: blockSize - block.count)
        inner = Self.absorbing(block.map { $0 ^ 0x36 })
        outer = Self.absorbing(block.map { $0 ^ 0x5c })
    }

    deinit {
        EVP_MD_CTX_free(inner)
        EVP_MD_CTX_free(outer)
    }

    private static func absorbing(_ pad: [UInt8]) -> OpaquePointer {
        // Allocation failure here is out of memory; libcrypto then fails every later call too.
        let context = EVP_MD_CTX_new()!
        EVP_DigestInit_ex(context, Digest.sha256Algorithm, nil)
        pad.withUnsafeBufferPointer { _ = EVP_DigestUpdate(context, $0.baseAddress, $0.count) }
        return context
    }

    public func mac(_ data: [UInt8]) -> [UInt8] {
        data.withUnsafeBytes { mac(parts: [$0]) }
    }

    /// The MAC of `parts` joined, without joining them.
    public func mac(parts: [UnsafeRawBufferPointer]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Digest.sha256Length)
        guard let context = EVP_MD_CTX_new() else { return out }
        defer { EVP_MD_CTX_free(context) }
        var innerHash = [UInt8](repeating: 0, count: Digest.sha256Length)
        EVP_MD_CTX_copy_ex(context, inner)
        for part in parts where part.count > 0 { EVP_DigestUpdate(context, part.baseAddress, part.count) }
        innerHash.withUnsafeMutableBufferPointer { _ = EVP_DigestFinal_ex(context, $0.baseAddress, nil) }
        EVP_MD_CTX_copy_ex(context, outer)
        innerHash.withUnsafeBufferPointer { _ = EVP_DigestUpdate(context, $0.baseAddress, $0.count) }
        out.withUnsafeMutableBufferPointer { _ = EVP_DigestFinal_ex(context, $0.baseAddress, nil) }
        return out
    }
}
