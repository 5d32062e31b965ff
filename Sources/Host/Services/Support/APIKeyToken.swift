import ProviderCrypto

/// API keys: `bsk_` and 43 base64url characters (32 random bytes). Only the
/// SHA-256 of a key is stored; its first 12 characters stay visible so that
/// a user can tell keys apart.
package enum APIKeyToken {
    package static let scheme = "bsk_"
    package static let prefixLength = 12

    package struct Minted {
        package var key: String
        package var prefix: String
        package var hashHex: String
    }

    package static func mint() throws(APIError) -> Minted {
        guard let bytes = SecureRandom.bytes(32) else { throw APIError.internal("no entropy source for a new key") }
        let key = scheme + base64URL(bytes)
        return Minted(key: key, prefix: String(key.prefix(prefixLength)), hashHex: hashHex(key))
    }

    /// The stored form of `key`, as PostgreSQL's bytea hex input.
    package static func hashHex(_ key: String) -> String {
        "\\x" + Encoding.hex(Digest.sha256(Array(key.utf8)))
    }

    /// Whether `text` has the shape of a key at all (saves a database round trip on garbage).
    package static func looksValid(_ text: String) -> Bool {
        text.hasPrefix(scheme) && text.utf8.count == scheme.utf8.count + 43
            && text.utf8.dropFirst(scheme.utf8.count).allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
            }
    }

    private static func base64URL(_ bytes: [UInt8]) -> String {
        var text = Encoding.base64(bytes)
        text = String(text.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }
}
