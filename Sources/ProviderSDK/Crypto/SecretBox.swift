import CSodium

/// libsodium's secretbox (XSalsa20-Poly1305) under one 32-byte key: the host
/// seals users' provider credentials with the master key before they reach
/// the database, so a copy of the database alone reveals nothing.
public struct SecretBox: Sendable {
    public static let keyBytes = Int(crypto_secretbox_KEYBYTES)
    public static let nonceBytes = Int(crypto_secretbox_NONCEBYTES)
    public static let tagBytes = Int(crypto_secretbox_MACBYTES)

    private static let ready: Bool = sodium_init() >= 0
    private let key: [UInt8]

    /// nil unless `key` is exactly 32 bytes and libsodium initialised.
    public init?(key: [UInt8]) {
        guard Self.ready, key.count == Self.keyBytes else { return nil }
        self.key = key
    }

    /// The ciphertext (tag included) and the fresh random nonce it was sealed with; store both.
    public func seal(_ plaintext: [UInt8]) -> (ciphertext: [UInt8], nonce: [UInt8]) {
        var nonce = [UInt8](repeating: 0, count: Self.nonceBytes)
        nonce.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, $0.count) }
        var sealed = [UInt8](repeating: 0, count: plaintext.count + Self.tagBytes)
        _ = crypto_secretbox_easy(&sealed, plaintext, UInt64(plaintext.count), nonce, key)
        return (sealed, nonce)
    }

    /// The plaintext, or nil when the ciphertext was altered or sealed under another key.
    public func open(_ ciphertext: [UInt8], nonce: [UInt8]) -> [UInt8]? {
        guard nonce.count == Self.nonceBytes, ciphertext.count >= Self.tagBytes else { return nil }
        var plain = [UInt8](repeating: 0, count: ciphertext.count - Self.tagBytes)
        guard crypto_secretbox_open_easy(&plain, ciphertext, UInt64(ciphertext.count), nonce, key) == 0 else { return nil }
        return plain
    }
}
