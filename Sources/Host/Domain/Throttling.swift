import ProviderModel

/// Which retryable outcomes are throttling (the provider's rate or quota, a
/// wait that uses no attempt) rather than a transient failure (which does).
/// The ABI's outcome has no separate kind for it, so the host reads the
/// providers' documented codes: one list, here.
public enum Throttling {
    public static let codes: Set<String> = [
        "429", "rate_limit_exceeded", "daily_quota_exceeded", "monthly_quota_exceeded", "concurrent_idempotent_requests",
        "TooManyRequestsException", "ThrottlingException", "Throttling", "ACCOUNT_THROTTLED", "ACCOUNT_DAILY_QUOTA_EXCEEDED",
        "10011",
    ]

    public static func isThrottled(_ outcome: SendOutcome) -> Bool {
        codes.contains(outcome.code) || outcome.code.lowercased().contains("throttl")
    }
}
