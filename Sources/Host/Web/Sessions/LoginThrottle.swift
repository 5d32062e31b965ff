import SenderAPI

/// How often sign-in may be tried: per address (against guessing one user's password from many places)
/// and per client address (against trying many users from one place), in sliding windows kept in Redis
/// so that every dashboard process shares them. Registration counts against the client address too.
struct LoginThrottle: Sendable {
    let limiter: SlidingWindowLimiter
    let keyPrefix: String
    static let perAddress = 5
    static let perClient = 30
    static let windowMilliseconds = 15 * 60_000

    /// nil when the attempt may go ahead, else how many seconds until it may.
    func admit(email: String?, client: String) async throws -> Int? {
        var waits: [Int] = []
        let byClient = try await limiter.admit(keyPrefix + "web:login:client:" + client, limit: Self.perClient,
                                               windowMilliseconds: Self.windowMilliseconds)
        if !byClient.allowed { waits.append(byClient.retryAfterMilliseconds) }
        if let email {
            let byAddress = try await limiter.admit(keyPrefix + "web:login:address:" + email, limit: Self.perAddress,
                                                    windowMilliseconds: Self.windowMilliseconds)
            if !byAddress.allowed { waits.append(byAddress.retryAfterMilliseconds) }
        }
        return waits.max().map { max(1, ($0 + 999) / 1_000) }
    }
}
