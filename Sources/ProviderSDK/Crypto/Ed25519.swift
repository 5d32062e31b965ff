import CSodium

/// Ed25519 signature verification (libsodium), for Telnyx's webhooks.
public enum Ed25519 {
    public static let publicKeyBytes = 32
    public static let signatureBytes = 64

    private static let ready: Bool = sodium_init() >= 0

    /// Whether `signature` is `publicKey`'s signature of `message`. Sizes other than 32 and 64 bytes never verify.
    public static func verify(signature: [UInt8], message: [UInt8], publicKey: [UInt8]) -> Bool {
        guard ready, signature.count == signatureBytes, publicKey.count == publicKeyBytes else { return false }
        return signature.withUnsafeBufferPointer { signature in
            message.withUnsafeBufferPointer { message in
                publicKey.withUnsafeBufferPointer { key in
                    crypto_sign_verify_detached(signature.baseAddress!, message.baseAddress, UInt64(message.count), key.baseAddress!) == 0
                }
            }
        }
    }
}
