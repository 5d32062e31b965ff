import ProviderCrypto
import Synchronization

/// The rendered content of one accepted message as its recipients see it
/// (subject and bodies, an SMS's text, a webhook's payload), as its SHA-256:
/// what a recipient would recognise as "this again", whatever key carried it.
struct MessageContent: Sendable, Equatable {
    let digest: [UInt8]

    /// Content made of `parts` (subject, text, html…): each is length-prefixed,
    /// so that moving text from one part to the next makes other content.
    init(_ parts: [String]) {
        var bytes: [UInt8] = []
        for part in parts {
            bytes += String(part.utf8.count).utf8
            bytes.append(0)
            bytes += part.utf8
        }
        digest = Digest.sha256(bytes)
    }

    init(bytes: [UInt8]) {
        digest = Digest.sha256(bytes)
    }
}

/// One accepted message: who receives it and what they receive.
struct Delivery: Sendable {
    var recipients: [String]
    var content: MessageContent
    /// The one-click unsubscribe link the message carried (`OneClickUnsubscribe`), if any.
    var unsubscribeURL: String? = nil
    /// The files it carried (`ReceivedAttachments`).
    var attachments: [ReceivedAttachment] = []
}

/// Counts deliveries as a recipient would: the same content reaching the same
/// recipient a second time is a duplicate delivery, whatever idempotency key
/// (or none) the request carried. An idempotent replay never reaches here: it
/// sends nothing. Each delivery is remembered as 64 bits of
/// SHA-256(recipient, content), so memory is a few bytes per recipient reached
/// whatever the messages weigh (a false match needs a 64-bit collision), and
/// bounded: past `capacity` deliveries new ones are no longer remembered, as
/// the arrival and fate logs stop at theirs.
final class DeliveryLedger: Sendable {
    private let seen = Mutex<Set<UInt64>>([])
    let capacity: Int

    init(capacity: Int = 2_000_000) {
        self.capacity = capacity
    }

    /// Records `deliveries`; how many recipients had already received the same content.
    func record(_ deliveries: [Delivery]) -> Int {
        let fingerprints = deliveries.flatMap { delivery in
            delivery.recipients.map { Self.fingerprint(recipient: $0, content: delivery.content) }
        }
        return seen.withLock { seen in
            fingerprints.count { fingerprint in
                if seen.contains(fingerprint) { return true }
                if seen.count < capacity { seen.insert(fingerprint) }
                return false
            }
        }
    }

    func reset() {
        seen.withLock { $0 = [] }
    }

    /// Addresses are compared without case: `Ada@Example.org` reads the same mailbox as `ada@example.org`.
    private static func fingerprint(recipient: String, content: MessageContent) -> UInt64 {
        let digest = Digest.sha256(Array(recipient.lowercased().utf8) + [0] + content.digest)
        return digest.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
}
