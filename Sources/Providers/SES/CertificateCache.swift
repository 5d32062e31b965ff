import ProviderCrypto
import Synchronization

/// Signing certificates' public keys by URL, parsed once. AWS publishes a new
/// URL when it rotates a certificate, so an entry never goes stale; the
/// cache is bounded so a stream of forged URLs cannot grow it.
final class CertificateCache: Sendable {
    static let capacity = 32
    private let keys = Mutex<[String: CertificatePublicKey]>([:])

    func key(for url: String) -> CertificatePublicKey? {
        keys.withLock { $0[url] }
    }

    func store(_ key: CertificatePublicKey, for url: String) {
        keys.withLock { keys in
            if keys.count >= Self.capacity { keys.removeAll() }
            keys[url] = key
        }
    }
}
