import Domain
import HostCore
import Persistence
import ProviderCrypto
import ProviderModel

/// Seals a send-config's credentials (a JSON object of the plugin's config
/// keys) under the master key, and shows them back masked: a secret key's
/// value is never returned, only its last four characters.
public struct CredentialVault: Sendable {
    private let box: SecretBox

    /// The one check of the master key, for every process that seals or opens credentials.
    public init(masterKey: [UInt8]) throws(MasterKeyError) {
        guard let box = SecretBox(key: masterKey) else { throw MasterKeyError(length: masterKey.count) }
        self.box = box
    }

    public struct Sealed: Sendable {
        /// bytea hex input for PostgreSQL.
        public var ciphertextHex: String
        public var nonceHex: String
    }

    public func seal(_ credentials: [String: JSONValue]) -> Sealed {
        let (ciphertext, nonce) = box.seal(JSONValue.object(credentials).compactBytes)
        return Sealed(ciphertextHex: "\\x" + Encoding.hex(ciphertext), nonceHex: "\\x" + Encoding.hex(nonce))
    }

    /// Opens what `seal` stored (bytea columns read back as `\x…` hex).
    public func open(ciphertextHex: String, nonceHex: String) throws(CredentialVaultError) -> [String: JSONValue] {
        guard let ciphertext = Self.bytes(ciphertextHex), let nonce = Self.bytes(nonceHex),
              let plain = box.open(ciphertext, nonce: nonce),
              case .object(let credentials)? = JSONValue.parse(plain) else {
            throw CredentialVaultError()
        }
        return credentials
    }

    /// What every masked value starts with. A value sent back in this form is the mask, not a secret.
    public static let maskPrefix = "••••"

    /// The credentials as they may be shown: secret values as `••••abcd`.
    public static func masked(_ credentials: [String: JSONValue], secretKeys: Set<String>) -> [String: JSONValue] {
        credentials.reduce(into: [:]) { result, entry in
            guard secretKeys.contains(entry.key) else { result[entry.key] = entry.value; return }
            let text = entry.value.stringValue ?? entry.value.compactText
            result[entry.key] = .string(maskPrefix + (text.count >= 12 ? String(text.suffix(4)) : ""))
        }
    }

    private static func bytes(_ hex: String) -> [UInt8]? {
        guard hex.hasPrefix("\\x") else { return nil }
        return Encoding.unhex(String(hex.dropFirst(2)))
    }
}

/// Stored credentials that this master key cannot open.
public struct CredentialVaultError: Error, Sendable, CustomStringConvertible {
    public var description: String { "stored credentials cannot be opened with this master key (was BATCHSENDER_MASTER_KEY changed?)" }
}

public struct MasterKeyError: Error, Sendable, CustomStringConvertible {
    public var length: Int
    public var description: String {
        "BATCHSENDER_MASTER_KEY must be 32 bytes (64 hex characters), not \(length); .env.dev has one for a local stack"
    }
}
