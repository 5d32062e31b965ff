import CSSL

/// SHA-256 and HMAC-SHA256 on libcrypto's SHA-256 (SHA-NI where the CPU has
/// it), through its context API: OpenSSL 3's one-shot helpers (`SHA256()`,
/// `HMAC()`) look the algorithm up on every call, which costs more than
/// hashing a webhook. HMAC is RFC 2104. Safe from any thread.
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
        var context = SHA256_CTX()
        SHA256_Init(&context)
        for part in parts where part.count > 0 { SHA256_Update(&context, part.baseAddress, part.count) }
        out.withUnsafeMutableBufferPointer { _ = SHA256_Final($0.baseAddress, &context) }
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
}

/// SHA-256 fed in pieces, for what is read a piece at a time (an upload read back from its spool).
public struct SHA256Hasher {
    private var context = SHA256_CTX()

    public init() { SHA256_Init(&context) }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        if bytes.count > 0 { SHA256_Update(&context, bytes.baseAddress, bytes.count) }
    }

    public mutating func finish() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Digest.sha256Length)
        out.withUnsafeMutableBufferPointer { _ = SHA256_Final($0.baseAddress, &context) }
        return out
    }
}

/// An HMAC-SHA256 key with its padded blocks absorbed once, so each MAC
/// hashes only the message: for a secret that signs or verifies many times
/// (a webhook secret, a SigV4 signing key). The two states are plain values
/// copied per MAC, so nothing is allocated but the result. Immutable after
/// init; `mac` may run on many threads at once.
public final class HMACKey: @unchecked Sendable {
    private let inner: SHA256_CTX
    private let outer: SHA256_CTX

    public init(_ key: [UInt8]) {
        let blockSize = 64
        var block = key.count > blockSize ? Digest.sha256(key) : key
        block += [UInt8](repeating: 0, count: blockSize - block.count)
        inner = Self.absorbing(block.map { $0 ^ 0x36 })
        outer = Self.absorbing(block.map { $0 ^ 0x5c })
    }

    private static func absorbing(_ pad: [UInt8]) -> SHA256_CTX {
        var context = SHA256_CTX()
        SHA256_Init(&context)
        pad.withUnsafeBufferPointer { _ = SHA256_Update(&context, $0.baseAddress, $0.count) }
        return context
    }

    public func mac(_ data: [UInt8]) -> [UInt8] {
        data.withUnsafeBytes { mac(parts: [$0]) }
    }

    /// The MAC of `parts` joined, without joining them.
    public func mac(parts: [UnsafeRawBufferPointer]) -> [UInt8] {
        var context = inner
        for part in parts where part.count > 0 { SHA256_Update(&context, part.baseAddress, part.count) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Digest.sha256Length) { innerHash in
            SHA256_Final(innerHash.baseAddress, &context)
            context = outer
            SHA256_Update(&context, innerHash.baseAddress, innerHash.count)
            return [UInt8](unsafeUninitializedCapacity: Digest.sha256Length) { out, count in
                SHA256_Final(out.baseAddress, &context)
                count = Digest.sha256Length
            }
        }
    }
}
