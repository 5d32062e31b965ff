import CSodium

/// Ed25519 (libsodium): Telnyx's webhook signatures, verified by the plugin
/// and made by the sandbox.
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

    /// A key pair from a 32-byte seed: the same seed always gives the same keys.
    public struct KeyPair: Sendable {
        public let publicKey: [UInt8]
        /// libsodium's 64-byte secret key (seed followed by the public key).
        fileprivate let secretKey: [UInt8]

        public init?(seed: [UInt8]) {
            guard Ed25519.ready, seed.count == Int(crypto_sign_SEEDBYTES) else { return nil }
            var publicKey = [UInt8](repeating: 0, count: Ed25519.publicKeyBytes)
            var secretKey = [UInt8](repeating: 0, count: Int(crypto_sign_SECRETKEYBYTES))
            guard crypto_sign_seed_keypair(&publicKey, &secretKey, seed) == 0 else { return nil }
            self.publicKey = publicKey
            self.secretKey = secretKey
        }

        /// The detached 64-byte signature of `message`.
        public func sign(_ message: [UInt8]) -> [UInt8] {
            var signature = [UInt8](repeating: 0, count: Ed25519.signatureBytes)
            message.withUnsafeBufferPointer { message in
                _ = crypto_sign_detached(&signature, nil, message.baseAddress, UInt64(message.count), secretKey)
            }
            return signature
        }
    }
}
