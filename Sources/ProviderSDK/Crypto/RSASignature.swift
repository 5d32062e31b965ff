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

    private init(owning key: OpaquePointer) {
        self.key = key
    }

    /// A fresh key pair: the sandbox makes one per run rather than shipping a private key.
    public static func generate(bits: Int32 = 2048) -> RSAPrivateKey? {
        guard let context = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, nil) else { return nil }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(context) == 1, EVP_PKEY_CTX_set_rsa_keygen_bits(context, bits) == 1,
              EVP_PKEY_keygen(context, &key) == 1, let key else {
            ERR_clear_error()
            return nil
        }
        return RSAPrivateKey(owning: key)
    }

    /// A self-signed X.509 certificate (SHA-256, version 3) for this key, in PEM.
    public func selfSignedCertificatePEM(commonName: String, validDays: Int) -> [UInt8]? {
        guard let certificate = X509_new() else { return nil }
        defer { X509_free(certificate) }
        guard X509_set_version(certificate, 2) == 1,
              ASN1_INTEGER_set(X509_get_serialNumber(certificate), 1) == 1,
              X509_gmtime_adj(X509_getm_notBefore(certificate), -3600) != nil,
              X509_gmtime_adj(X509_getm_notAfter(certificate), validDays * 86_400) != nil,
              X509_set_pubkey(certificate, key) == 1,
              let name = X509_get_subject_name(certificate),
              X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, commonName, -1, -1, 0) == 1,
              X509_set_issuer_name(certificate, name) == 1,
              X509_sign(certificate, key, EVP_sha256()) > 0 else {
            ERR_clear_error()
            return nil
        }
        return Self.pem { PEM_write_bio_X509($0, certificate) }
    }

    /// The private key in PKCS#8 PEM, for tools that sign beside the sandbox.
    public var pem: [UInt8]? {
        Self.pem { PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil) }
    }

    private static func pem(_ write: (OpaquePointer) -> Int32) -> [UInt8]? {
        guard let bio = BIO_new(BIO_s_mem()) else { return nil }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else { return nil }
        var data: UnsafeMutablePointer<CChar>?
        let length = withUnsafeMutablePointer(to: &data) { BIO_ctrl(bio, BIO_CTRL_INFO, 0, $0) }
        guard length > 0, let data else { return nil }
        return data.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
    }

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
