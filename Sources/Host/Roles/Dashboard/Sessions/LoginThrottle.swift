import ProviderCrypto
import SenderAPI

/// How often sign-in may be tried, in sliding windows kept in Redis so that every dashboard process shares
/// them. No count is one a stranger can fill for someone else:
/// - per client address (the `ClientAddress` rule the API uses, `[api] trusted_proxies` included), against
///   trying many users from one place; registration counts here too;
/// - per email address *and* client, against guessing one user's password from one place: a guesser's
///   tries for a victim's email lock out the guesser's client, never the victim's;
/// - failed sign-ins for an email from every client slow each later try for it (1 s, doubling to 8 s),
///   against guessing from many places. The delay is a gate per email and client, held for the wait and the
///   check: while one try for the email from a client is under way, another from that client is answered 429
///   with Retry-After instead of being checked, so one place cannot run its guesses in parallel. The gate is
///   not per email alone: then a stranger holding it would refuse the victim's right password from anywhere.
///   No stranger can lock a victim out; a victim's try waits at most `maxDelaySeconds`.
/// An IPv6 client counts by its /64 (`ClientAddress.limitKey`): one subscriber's prefix is one client.
struct LoginThrottle: Sendable {
    let limiter: SlidingWindowLimiter
    static let perAddressAndClient = 5
    static let perClient = 30
    static let windowMilliseconds = 15 * 60_000
    /// Failed sign-ins for one email, from every client, before each later try for it waits.
    static let failuresBeforeDelay = 5
    static let maxDelaySeconds = 8

    /// nil when the attempt may go ahead, else how many seconds until it may.
    func admit(email: String?, client address: String) async throws -> Int? {
        let client = ClientAddress.limitKey(address)
        var waits: [Int] = []
        let byClient = try await limiter.admit(.signInClient(client), limit: Self.perClient,
                                               windowMilliseconds: Self.windowMilliseconds)
        if !byClient.allowed { waits.append(byClient.retryAfterMilliseconds) }
        if let email {
            let byAddress = try await limiter.admit(.signInEmail(digest: Self.digest(email), client: client),
                                                    limit: Self.perAddressAndClient, windowMilliseconds: Self.windowMilliseconds)
            if !byAddress.allowed { waits.append(byAddress.retryAfterMilliseconds) }
        }
        return waits.max().map { max(1, ($0 + 999) / 1_000) }
    }

    /// How long a try for `email` waits before its password is checked: nothing until the email has
    /// `failuresBeforeDelay` recent failures from anywhere, then 1 s doubling with each failure to `maxDelaySeconds`.
    func delay(email: String) async throws -> Duration {
        let failures = try await limiter.count(.signInFailures(digest: Self.digest(email)), windowMilliseconds: Self.windowMilliseconds)
        return Self.delay(failures: failures)
    }

    /// Whether a try for `email` from `address` may go ahead now: when it must wait `delay`, it takes that
    /// email and client's gate for its wait and its check (`.go` with the hold to release when done); while another try holds that gate,
    /// `.refuse` with the seconds to say in Retry-After.
    typealias Hold = SlidingWindowLimiter.Hold

    enum Turn {
        case go(Hold?)
        case refuse(seconds: Int)
    }

    func turn(email: String, client address: String, delay: Duration) async throws -> Turn {
        let seconds = Int(delay.components.seconds)
        guard seconds > 0 else { return .go(nil) }
        let gate = limiter.windows.signInGate(digest: Self.digest(email), client: ClientAddress.limitKey(address))
        // Long enough for the wait and a password check on a busy host; released as soon as the check is done.
        switch try await limiter.hold(gate, milliseconds: (seconds + Self.checkSeconds) * 1_000) {
        case .held(let hold): return .go(hold)
        case .busy: return .refuse(seconds: seconds)
        }
    }

    func done(_ hold: Hold?) async throws {
        if let hold { try await limiter.release(hold) }
    }

    /// How long a password check may take before the gate opens by itself (a process that died holding it).
    static let checkSeconds = 10

    static func delay(failures: Int) -> Duration {
        guard failures >= failuresBeforeDelay else { return .zero }
        let doublings = min(failures - failuresBeforeDelay, 3)
        return .seconds(min(maxDelaySeconds, 1 << doublings))
    }

    /// Counts a wrong password (or an unknown email) for `email`, from whichever client.
    func failed(email: String) async throws {
        // The limit only caps the set's size: every failure past it waits the longest delay anyway.
        _ = try await limiter.admit(.signInFailures(digest: Self.digest(email)), limit: 1_000, windowMilliseconds: Self.windowMilliseconds)
    }

    /// Emails are keyed by their hash: a key's length stays fixed whatever a form sends.
    private static func digest(_ email: String) -> String { Encoding.hex(Digest.sha256(Array(email.utf8))) }
}
