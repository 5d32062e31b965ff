import Synchronization

/// A response as the sandbox sent it, kept so that a replay is byte-identical.
struct StoredResponse: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]
}

/// `Idempotency-Key` handling as Resend and Telnyx document it: within the
/// window a repeated key with the same payload replays the stored response and
/// sends nothing; a different payload is refused; a key whose first request is
/// still being served is refused as concurrent. Only successful responses are
/// kept, so a request that failed can be retried under its key.
final class IdempotencyCache: Sendable {
    enum Claim: Sendable {
        /// Go on and send; call `complete` or `abandon` afterwards.
        case new
        case replay(StoredResponse)
        case differentPayload
        case inFlight
    }

    private struct Entry {
        var fingerprint: [UInt8]
        var response: StoredResponse?
        var createdMilliseconds: Int64
    }

    static let windowMilliseconds: Int64 = 24 * 3600 * 1000

    private let entries = Mutex<[String: Entry]>([:])

    /// `key` is scoped by the caller (API key and key, say); `fingerprint` identifies the payload.
    func claim(_ key: String, fingerprint: [UInt8], nowMilliseconds: Int64) -> Claim {
        entries.withLock { entries in
            if let entry = entries[key], nowMilliseconds - entry.createdMilliseconds < Self.windowMilliseconds {
                guard entry.fingerprint == fingerprint else { return .differentPayload }
                guard let response = entry.response else { return .inFlight }
                return .replay(response)
            }
            entries[key] = Entry(fingerprint: fingerprint, response: nil, createdMilliseconds: nowMilliseconds)
            return .new
        }
    }

    func complete(_ key: String, with response: StoredResponse) {
        entries.withLock { $0[key]?.response = response }
    }

    /// The request under `key` did not succeed: forget it so that a retry is served afresh.
    func abandon(_ key: String) {
        entries.withLock { _ = $0.removeValue(forKey: key) }
    }

    func reset() {
        entries.withLock { $0 = [:] }
    }
}

/// Remembers which idempotency keys (or, for SES, which exact request bodies)
/// led to an accepted send, to count sends that happened twice.
final class DuplicateDetector: Sendable {
    private let seen = Mutex<Set<String>>([])

    /// Whether `key` had already been accepted.
    func recordAccepted(_ key: String) -> Bool {
        seen.withLock { !$0.insert(key).inserted }
    }

    func reset() {
        seen.withLock { $0 = [] }
    }
}
