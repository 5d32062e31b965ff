import Domain
import HostCore
import ProviderModel
import Testing

/// The completion rule, the webhook status moves, the webhook retry schedule and which limits apply.
struct StatusRuleTests {
    @Test("a processing batch completes only once expanded and every owed recipient is decided")
    func completion() {
        func of(_ status: BatchStatus, expanded: Bool = true, decided: Int, owed: Int = 10, quietMs: Int64 = 0) -> BatchSettlement {
            BatchSettlement.of(status: status, expanded: expanded, decided: decided, owed: owed, quietMs: quietMs, claimHoldMs: 45_000)
        }
        #expect(of(.processing, decided: 10) == .complete)
        #expect(of(.processing, decided: 11) == .complete)
        #expect(of(.processing, decided: 9) == .keep)
        #expect(of(.processing, expanded: false, decided: 10) == .keep)
        #expect(of(.cancelled, decided: 3, quietMs: 45_001) == .retire)
        #expect(of(.cancelled, decided: 3, quietMs: 45_000) == .keep)
        #expect(of(.completed, decided: 10) == .retire)
        #expect(of(.queued, decided: 10) == .keep)
        #expect(of(.failed, decided: 10) == .keep)
    }

    @Test("webhooks move a recipient only forward, and only from what the provider accepted")
    func webhookMoves() {
        #expect(RecipientStatus.sent.webhookMayMove(to: .delivered))
        #expect(RecipientStatus.delivered.webhookMayMove(to: .complained))
        #expect(RecipientStatus.sent.webhookMayMove(to: .bounced))
        #expect(!RecipientStatus.delivered.webhookMayMove(to: .sent))
        #expect(!RecipientStatus.delivered.webhookMayMove(to: .delivered))
        #expect(!RecipientStatus.sent.webhookMayMove(to: .sent))
        #expect(!RecipientStatus.bounced.webhookMayMove(to: .delivered))
        #expect(!RecipientStatus.queued.webhookMayMove(to: .delivered))
        #expect(!RecipientStatus.failed.webhookMayMove(to: .delivered))
        #expect(RecipientStatus.after(.delivered) == .delivered)
        #expect(RecipientStatus.after(.opened) == nil)
        #expect(RecipientStatus.after(.deferred) == nil)
    }

    @Test("waiting statuses are the ones the processor expands and a batch cannot complete with")
    func waiting() {
        #expect(RecipientStatus.allCases.filter(\.isWaiting) == [.pending, .queued, .deferred])
        #expect(RecipientStatus.allCases.allSatisfy { !($0.isWaiting && $0.isTerminal) })
        #expect(RecipientStatus.sqlList(RecipientStatus.waiting) == "('pending', 'queued', 'deferred')")
    }

    @Test("a refused webhook waits 1, 2, 4, 8 s, then is dead-lettered at the fifth refusal")
    func webhookRetries() {
        let policy = WebhookRetryPolicy()
        #expect((1...4).map { policy.decision(refusals: $0) } == [1_000, 2_000, 4_000, 8_000].map { .retry(delayMs: $0) })
        #expect(policy.decision(refusals: 5) == .deadLetter)
        #expect(policy.decision(refusals: .max) == .deadLetter)
        #expect(policy.decision(refusals: 0) == .retry(delayMs: 1_000))
    }

    @Test("a BYOK config passes the system limit and its own (its rate, else its provider's); a managed one also its account's")
    func limits() {
        let limits = SendRateLimits(system: 5_000, byok: ["resend": 100], managed: ["resend": 300], fallback: 77)
        #expect(RateLimitPlan.levels(sendConfigID: "c1", provider: "resend", managed: false, rateLimit: nil, limits: limits)
                == [.init(scope: .system, fallback: 5_000), .init(scope: .config("c1"), fallback: 100)])
        #expect(RateLimitPlan.levels(sendConfigID: "c1", provider: "resend", managed: false, rateLimit: 40, limits: limits).last
                == .init(scope: .config("c1"), fallback: 40))
        #expect(RateLimitPlan.levels(sendConfigID: "c2", provider: "ses", managed: false, rateLimit: nil, limits: limits).last?.fallback == 77)
        #expect(RateLimitPlan.levels(sendConfigID: "c3", provider: "resend", managed: true, rateLimit: nil, limits: limits)
                == [.init(scope: .system, fallback: 5_000), .init(scope: .provider("resend"), fallback: 300), .init(scope: .config("c3"), fallback: 0)])
        #expect(RateLimitPlan.levels(sendConfigID: "c4", provider: "x", managed: false, rateLimit: nil, limits: SendRateLimits(byok: [:])).first
                == .init(scope: .system, fallback: 0))
        // A provider that counts requests is paced in requests when its declared rate applies, in messages when a config's own does.
        var declared = SendRateLimits(byok: [:])
        declared.providerDefaults = ["resend": TokenRate(perSecond: 5, perToken: 100)]
        #expect(RateLimitPlan.levels(sendConfigID: "c5", provider: "resend", managed: false, rateLimit: nil, limits: declared).last
                == .init(scope: .config("c5"), fallback: 5, perToken: 100))
        #expect(RateLimitPlan.levels(sendConfigID: "c5", provider: "resend", managed: false, rateLimit: 40, limits: declared).last
                == .init(scope: .config("c5"), fallback: 40))
    }
}
