import Domain
import HostCore
import Messaging
import Persistence
import ProviderInstances
import ProviderModel
import Testing

/// The isolation rule of the webhook processor without servers: a fake round whose bad items fail
/// any try they are part of, as PostgreSQL fails a statement over one refused value.
@Suite("Webhook fault isolation")
struct WebhookFaultIsolationTests {
    struct Refused: Error, Equatable { var item: Int }
    struct ServersAway: Error {}

    /// A fake ledger: a try of a range commits all of it, or fails on its first bad item and commits nothing.
    final class FakeRound {
        let bad: Set<Int>
        var committed: [Int] = []
        var tries: [Range<Int>] = []
        init(bad: Set<Int>) { self.bad = bad }

        func attempt(_ range: Range<Int>) throws(Refused) {
            tries.append(range)
            if let item = range.first(where: bad.contains) { throw Refused(item: item) }
            committed += range
        }
    }

    @Test("a round without a bad item is one try")
    func cleanRound() throws {
        let round = FakeRound(bad: [])
        let outcome = try FaultIsolation.run(groups: [0..<300, 300..<500], attempt: round.attempt, isFatal: { _ in false })
        #expect(outcome.failures.isEmpty && outcome.deferred.isEmpty)
        #expect(round.tries == [0..<500])
        #expect(round.committed == Array(0..<500))
    }

    @Test("bad items are set aside, each with its own error, and every other item commits exactly once",
          arguments: [Set<Int>([0]), [499], [7, 8, 9], Set(0..<50), Set(stride(from: 0, to: 500, by: 37)), Set(0..<500)])
    func isolatesBadItems(bad: Set<Int>) throws {
        let round = FakeRound(bad: bad)
        let failures = try FaultIsolation.run(groups: [0..<500], budget: .max, attempt: round.attempt, isFatal: { _ in false }).failures
        #expect(Set(failures.keys) == bad)
        #expect(failures.allSatisfy { $0.key == $0.value.item }, "each failure is the item's own")
        #expect(round.committed.sorted() == Array(Set(0..<500).subtracting(bad)).sorted())
        #expect(Set(round.committed).count == round.committed.count, "nothing twice")
        // Bisection: at most two tries per bad item per level, plus the first.
        #expect(round.tries.count <= 1 + 2 * max(bad.count, 1) * 10, "\(round.tries.count) tries")
    }

    @Test("one tenant's bad items cost every other tenant one try of its own group, and leave it whole")
    func otherTenantsTriedOnce() throws {
        // Tenant A 0..<50 all bad; tenants B 50..<51 and C 51..<300 good.
        let round = FakeRound(bad: Set(0..<50))
        let failures = try FaultIsolation.run(groups: [0..<50, 50..<51, 51..<300], budget: .max, attempt: round.attempt, isFatal: { _ in false }).failures
        #expect(Set(failures.keys) == Set(0..<50))
        #expect(round.tries.filter { $0.overlaps(50..<300) } == [0..<300, 50..<51, 51..<300])
        #expect(round.committed == Array(50..<300))
    }

    @Test("the servers failing is no item's fault: the search stops and rethrows, setting nothing aside")
    func fatalStops() {
        var tries = 0
        #expect(throws: ServersAway.self) {
            _ = try FaultIsolation.run(groups: [0..<10], attempt: { (_: Range<Int>) throws(ServersAway) in
                tries += 1
                throw ServersAway()
            }, isFatal: { _ in true })
        }
        #expect(tries == 1)
    }

    @Test("a refused webhook is tried again after 1, 2, 4, 8 s and dead-lettered at its fifth refusal")
    func retryPolicy() {
        let policy = WebhookRetryPolicy()
        #expect((1...4).map { policy.decision(refusals: $0) } == [.retry(delayMs: 1_000), .retry(delayMs: 2_000), .retry(delayMs: 4_000), .retry(delayMs: 8_000)])
        #expect(policy.decision(refusals: 5) == .deadLetter)
        #expect(policy.decision(refusals: .max) == .deadLetter)
        #expect(policy.decision(refusals: 0) == .retry(delayMs: 1_000), "a count of 0 does not trap")
        var long = WebhookRetryPolicy()
        long.attempts = .max
        #expect(long.decision(refusals: 10_000) == .retry(delayMs: 30_000), "the wait is capped, the shift bounded")
    }

    @Test("a flood of bad items costs a round at most its budget of halving tries: what is still suspect is deferred, other tenants' groups commit",
          arguments: [0, 1, 16, 48])
    func budgetBoundsAFlood(budget: Int) throws {
        // Tenant A's 400 items all bad, tenant B's 100 good.
        let round = FakeRound(bad: Set(0..<400))
        let outcome = try FaultIsolation.run(groups: [0..<400, 400..<500], budget: budget, attempt: round.attempt, isFatal: { _ in false })
        #expect(round.tries.count <= 3 + budget, "\(round.tries.count) tries for a budget of \(budget)")
        #expect(round.committed == Array(400..<500), "tenant B committed whole")
        #expect(Set(outcome.failures.keys).isSubset(of: Set(0..<400)))
        #expect(outcome.failures.allSatisfy { $0.key == $0.value.item })
        #expect(Set(outcome.deferred).isDisjoint(with: outcome.failures.keys))
        #expect(Set(outcome.deferred).union(outcome.failures.keys) == Set(0..<400), "every bad item is refused or deferred, none lost")
        #expect(!outcome.deferred.isEmpty)
    }

    @Test("a deferred good item is neither committed nor refused, so its webhook can be tried again")
    func deferredItemsAreUntouched() throws {
        let round = FakeRound(bad: [0, 5])
        let outcome = try FaultIsolation.run(groups: [0..<10], budget: 2, attempt: round.attempt, isFatal: { _ in false })
        #expect(Set(round.committed).isDisjoint(with: outcome.deferred))
        #expect(Set(round.committed).union(outcome.deferred).union(outcome.failures.keys) == Set(0..<10))
    }

    @Test("a webhook event's dedupe key is 64 hex digits whatever the tenant's ids, and each field counts on its own")
    func seenDigestBounded() {
        func incoming(_ id: String, _ message: String, _ recipient: String, config: String? = nil) -> WebhookLedger.Incoming {
            .init(provider: "resend", sendConfigID: config, event: DeliveryEvent(type: .delivered, eventId: id, providerMessageId: message, recipient: recipient),
                  receivedAtMs: 0)
        }
        let huge = String(repeating: "x", count: 250_000)
        let big = incoming(huge, huge, huge).seenDigest
        #expect(big.utf8.count == 64 && big.allSatisfy(\.isHexDigit), "\(big.prefix(80))")
        #expect(incoming("a", "b", "c").seenDigest == incoming("a", "b", "c").seenDigest)
        #expect(incoming("a:b", "c", "d").seenDigest != incoming("a", "b:c", "d").seenDigest, "a separator moved between fields")
        #expect(incoming("a|b", "c", "d").seenDigest != incoming("a", "b|c", "d").seenDigest)
        #expect(incoming("a", "b", "c").seenDigest != incoming("a", "b", "d").seenDigest)
        // Another tenant's config, or the managed account, with the same ids: not seen.
        let tenants = Set([nil, "0b1e6c3a-7d44-4c55-9a4e-1f2a3b4c5d6e", "5f0c2d1e-8a9b-4c3d-8e7f-6a5b4c3d2e1f"].map { incoming("a", "b", "c", config: $0).seenDigest })
        #expect(tenants.count == 3, "one digest for three scopes")
        // The keys Redis holds for 30 hours outlive a deploy: the digest of the same event must not change between
        // versions. Pinned to SHA-256 of the length-prefixed fields (`14:managed:resend6:resend1:a1:b1:c`).
        #expect(incoming("a", "b", "c").seenDigest == "2ff30e009ca91d5f736f3289e79a9e70b158621827e9060c98184a1db3106016")
        #expect(incoming("évt", "b", "c", config: "0b1e6c3a-7d44-4c55-9a4e-1f2a3b4c5d6e").seenDigest
                == "3be33bec41c181f6e6fd0ba102ed7ad8ddeec6d0f75fcd59e005e031df454540", "lengths count UTF-8 bytes")
    }
}
