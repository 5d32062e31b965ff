import CSSL

/// The digests RSA PKCS#1 v1.5 signatures are made with here (SNS signature
/// versions 1 and 2).
public enum RSADigest: Sendable {
    case sha1, sha256

    var md: OpaquePointer? {
        switch self {
        case .sha1: EVP_sha1()
        case .sha256: EVP_sha256()
        }
    }
}

/// An RSA public key taken from an X.509 certificate in PEM, owning its
/// libcrypto key. Immutable once made, so one instance may verify on many
/// threads at once (OpenSSL 3 keys are read-only during verification).
public final class CertificatePublicKey: @unchecked Sendable {
    private let key: OpaquePointer

    /// nil when `pem` holds no certificate or its key is not RSA.
    public init?(certificatePEM pem: [UInt8]) {
        guard let key = Self.readKey(pem), EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA else { return nil }
        self.key = key
    }

    deinit {
        EVP_PKEY_free(key)
    }

    private static func readKey(_ pem: [UInt8]) -> OpaquePointer? {
        pem.withUnsafeBytes { bytes -> OpaquePointer? in
            guard let base = bytes.baseAddress, let bio = BIO_new_mem_buf(base, Int32(bytes.count)) else { return nil }
            defer { BIO_free(bio) }
            guard let certificate = PEM_read_bio_X509(bio, nil, nil, nil) else {
                ERR_clear_error()
                return nil
            }
            defer { X509_free(certificate) }
            return X509_get_pubkey(certificate)
        }
    }

    /// True when `signature` is this key's PKCS#1 v1.5 signature of `message` under `digest`.
    public func verify(signature: [UInt8], message: [UInt8], digest: RSADigest) -> Bool {
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, digest.md, nil, key) == 1 else {
            ERR_clear_error()
            return false
        }
        let result = signature.withUnsafeBufferPointer { signature in
            message.withUnsafeBufferPointer { message in
                EVP_DigestVerify(context, signature.baseAddress, signature.count, message.baseAddress, message.count)
            }
        }
        if result != 1 { ERR_clear_error() }
        return result == 1
    }
}

/// An RSA private key read from PEM, for signing (the sandbox's SNS
/// notifications). Owns its libcrypto key.
public final class RSAPrivateKey: @unchecked Sendable {
    private let key: OpaquePointer

    public init?(pem: [UInt8]) {
        let key = pem.withUnsafeBytes { bytes -> OpaquePointer? in
            guard let base = bytes.baseAddress, let bio = BIO_new_mem_buf(base, Int32(bytes.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let key, EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA else {
            ERR_clear_error()
            return nil
        }
        self.key = key
    }

    deinit {
        EVP_PKEY_free(key)
    }

    /// The PKCS#1 v1.5 signature of `message` under `digest`; nil only if libcrypto fails.
    public func sign(_ message: [UInt8], digest: RSADigest) -> [UInt8]? {
        guard let context = EVP_MD_CTX_new() else { return nil }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, digest.md, nil, key) == 1 else { return nil }
        var length = 0
        let sized = message.withUnsafeBufferPointer { EVP_DigestSign(context, nil, &length, $0.baseAddress, $0.count) }
        guard sized == 1 else { return nil }
        var out = [UInt8](repeating: 0, count: length)
        let signed = out.withUnsafeMutableBufferPointer { output in
            message.withUnsafeBufferPointer { EVP_DigestSign(context, output.baseAddress, &length, $0.baseAddress, $0.count) }
        }
        return signed == 1 ? Array(out.prefix(length)) : nil
    }
}
