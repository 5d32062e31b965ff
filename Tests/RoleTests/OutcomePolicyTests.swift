import Domain
import ProviderModel
import Testing

/// The sender's decision for each provider answer: which are sent, failed, throttled or retried, and when.
struct OutcomePolicyTests {
    let policy = OutcomePolicy(maxAttempts: 3, throttleDelayMs: 1_000, backoff: Backoff(baseMs: 1_000, maxMs: 60_000), spread: { 0.5 })

    func outcome(_ kind: SendOutcome.Kind, code: String = "", retryAfterMs: Int64? = nil) -> SendOutcome {
        SendOutcome(messageIndex: 0, kind: kind, providerMessageId: kind == .accepted ? "pm-1" : "", retryAfterMs: retryAfterMs,
                    code: code, message: "why")
    }

    @Test("accepted is sent, counting this attempt")
    func accepted() {
        #expect(policy.decide(outcome(.accepted), attemptsBefore: 1) == .sent(providerMessageID: "pm-1", attempts: 2))
    }

    @Test("a permanent refusal fails at once with the provider's code and message")
    func permanent() {
        #expect(policy.decide(outcome(.permanent, code: "invalid_to"), attemptsBefore: 0) == .failed(reason: "invalid_to: why", attempts: 1))
    }

    @Test("throttling waits the provider's time, or the default, and uses no attempt, even on the last one")
    func throttled() {
        #expect(policy.decide(outcome(.throttled, code: "429", retryAfterMs: 7_000), attemptsBefore: 2) == .throttled(retryInMs: 7_000))
        #expect(policy.decide(outcome(.throttled, code: "rate_limit_exceeded"), attemptsBefore: 2) == .throttled(retryInMs: 1_000))
    }

    @Test("a 1.0 plugin's retryable 429 is a transient failure: the host reads no provider's codes")
    func retryable429() {
        #expect(policy.decide(outcome(.retryable, code: "429"), attemptsBefore: 0) == .retry(reason: "429: why", attempts: 1, retryInMs: 1_000))
    }

    @Test("a transient failure uses an attempt and backs off, never sooner than the provider asked")
    func transient() {
        #expect(policy.decide(outcome(.retryable, code: "500"), attemptsBefore: 0) == .retry(reason: "500: why", attempts: 1, retryInMs: 1_000))
        #expect(policy.decide(outcome(.retryable, code: "500"), attemptsBefore: 1) == .retry(reason: "500: why", attempts: 2, retryInMs: 2_000))
        #expect(policy.decide(outcome(.retryable, code: "503", retryAfterMs: 9_000), attemptsBefore: 0)
                == .retry(reason: "503: why", attempts: 1, retryInMs: 9_000))
    }

    @Test("the last attempt's transient failure is final, with the last reason for the dead letters")
    func exhausted() {
        #expect(policy.decide(outcome(.retryable, code: "500"), attemptsBefore: 2)
                == .exhausted(reason: "gave up after 3 attempts; last: 500: why", lastReason: "500: why", attempts: 3))
    }

    @Test("metrics name throttling apart from other retryable outcomes and plugin faults")
    func metricNames() {
        #expect(OutcomePolicy.metricName(outcome(.throttled, code: "ThrottlingException"), pluginErrorCode: "plugin_error") == "throttled")
        #expect(OutcomePolicy.metricName(outcome(.retryable, code: "plugin_error"), pluginErrorCode: "plugin_error") == "plugin_error")
        #expect(OutcomePolicy.metricName(outcome(.retryable, code: "500"), pluginErrorCode: "plugin_error") == "retryable")
    }
}

struct BackoffTests {
    let backoff = Backoff(baseMs: 1_000, maxMs: 60_000)

    @Test("the step doubles per attempt up to the cap; the spread places the wait within 0.5–1.5 steps")
    func steps() {
        #expect((1...8).map { backoff.stepMs(attempts: $0) } == [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000])
        #expect(backoff.delayMs(attempts: 3, spread: 0) == 2_000)
        #expect(backoff.delayMs(attempts: 3, spread: 1) == 6_000)
        #expect(backoff.delayMs(attempts: 30, spread: 1) == 90_000)
    }

    @Test("hostile attempt counts and spreads neither trap nor wait forever")
    func hostile() {
        #expect(backoff.stepMs(attempts: Int.min) == 1_000)
        #expect(backoff.stepMs(attempts: Int.max) == 60_000)
        #expect(backoff.delayMs(attempts: 2, spread: .nan) == 2_000)
        #expect(backoff.delayMs(attempts: 2, spread: 7) == 3_000)
    }
}
