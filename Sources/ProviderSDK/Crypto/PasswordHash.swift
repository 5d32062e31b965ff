import CSodium

/// Passwords as libsodium's argon2id strings (`crypto_pwhash_str`): salt and cost travel inside the
/// string, so a later change of cost still verifies old hashes. Both calls take tens of milliseconds and
/// 64 MiB on purpose: run them on a thread of their own, never on the cooperative pool.
public enum PasswordHash {
    private static let ready: Bool = sodium_init() >= 0

    /// The cost the dashboard asks for: libsodium's "interactive" argon2id limits.
    static let opsLimit = UInt64(crypto_pwhash_OPSLIMIT_INTERACTIVE)
    static let memLimit = Int(crypto_pwhash_MEMLIMIT_INTERACTIVE)

    /// The encoded hash of `password`, or nil when libsodium could not allocate its memory.
    public static func hash(_ password: String) -> String? {
        guard ready else { return nil }
        var out = [CChar](repeating: 0, count: Int(crypto_pwhash_STRBYTES))
        // withCString: a pointer even for "", and every byte is hashed (the length is the UTF-8 count, NULs and all).
        let length = UInt64(password.utf8.count)
        let status = password.withCString { crypto_pwhash_str_alg(&out, $0, length, opsLimit, memLimit, crypto_pwhash_ALG_ARGON2ID13) }
        guard status == 0 else { return nil }
        return String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether `password` is the one `encoded` was made from.
    public static func verify(_ password: String, encoded: String) -> Bool {
        guard ready else { return false }
        let length = UInt64(password.utf8.count)
        return password.withCString { crypto_pwhash_str_verify(encoded, $0, length) == 0 }
    }
}
