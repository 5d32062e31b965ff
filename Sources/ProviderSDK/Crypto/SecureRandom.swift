import CSodium

/// Cryptographically secure random bytes from libsodium (getrandom underneath).
public enum SecureRandom {
    private static let ready: Bool = sodium_init() >= 0

    /// nil only when libsodium could not initialise (no entropy source).
    public static func bytes(_ count: Int) -> [UInt8]? {
        guard ready else { return nil }
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { buffer in if let base = buffer.baseAddress { randombytes_buf(base, buffer.count) } }
        return out
    }

    public static func fill(_ buffer: UnsafeMutableRawBufferPointer) -> Bool {
        guard ready, let base = buffer.baseAddress else { return ready }
        randombytes_buf(base, buffer.count)
        return true
    }
}
