/// Finds the items of a round that fail on their own, so that the rest still commit. The round is
/// tried whole; when it fails, each group (a tenant's items, say) is tried alone, and a failing group
/// is split in halves until every failure is one item. A round with no failure costs one try; `k`
/// bad items among `n` cost about `2k·log2(n/k)` tries, and the good groups of other tenants one each.
///
/// The halving has a budget of tries per round: a flood of bad items would otherwise make every round
/// slow (and every try is a subtransaction of the round's one transaction). Past the budget, what is
/// still suspect is `deferred`: neither applied nor refused, for a later round to try again.
///
/// `attempt` applies a range of items (a contiguous slice of the round, items of a group adjacent)
/// and must leave nothing behind when it throws (a savepoint rolled back). An error `isFatal` calls
/// bad (the server gone, a deadlock) stops the search and is rethrown: it is no item's fault.
public enum FaultIsolation {
    /// Halving tries a round may spend beyond the whole round and one try per group.
    public static let defaultBudget = 48

    public struct Outcome<Failure: Error> {
        /// Items that failed alone, each with its own error.
        public var failures: [Int: Failure] = [:]
        /// Items left untried past the budget, in order: each may be bad or good.
        public var deferred: [Int] = []
    }

    public static func run<Failure: Error>(groups: [Range<Int>], budget: Int = defaultBudget, attempt: (Range<Int>) throws(Failure) -> Void,
                                           isFatal: (Failure) -> Bool) throws(Failure) -> Outcome<Failure> {
        let nonEmpty = groups.filter { !$0.isEmpty }
        var outcome = Outcome<Failure>()
        guard let first = nonEmpty.first?.lowerBound, let last = nonEmpty.last?.upperBound else { return outcome }
        // The whole round first: the common case, one try.
        let whole = first..<last
        guard let failure = try tryOnce(whole, attempt, isFatal) else { return outcome }
        // Every group once, whatever the budget: one tenant's flood never sets another tenant's good round aside.
        var suspects: [(range: Range<Int>, failure: Failure)] = []
        if nonEmpty.count == 1 {
            suspects = [(whole, failure)]
        } else {
            for group in nonEmpty {
                if let failure = try tryOnce(group, attempt, isFatal) { suspects.append((group, failure)) }
            }
        }
        // Depth first, in order, so that the items isolated within the budget are the round's earliest.
        var left = max(0, budget)
        var stack = Array(suspects.reversed())
        while let (range, failure) = stack.popLast() {
            guard range.count > 1 else {
                outcome.failures[range.lowerBound] = failure
                continue
            }
            let middle = range.lowerBound + range.count / 2
            var failing: [(range: Range<Int>, failure: Failure)] = []
            for half in [range.lowerBound..<middle, middle..<range.upperBound] {
                guard left > 0 else {
                    outcome.deferred += half
                    continue
                }
                left -= 1
                if let failure = try tryOnce(half, attempt, isFatal) { failing.append((half, failure)) }
            }
            stack += failing.reversed()
        }
        outcome.deferred.sort()
        return outcome
    }

    /// Nil when `range` applied.
    private static func tryOnce<Failure: Error>(_ range: Range<Int>, _ attempt: (Range<Int>) throws(Failure) -> Void,
                                                _ isFatal: (Failure) -> Bool) throws(Failure) -> Failure? {
        do {
            try attempt(range)
            return nil
        } catch {
            if isFatal(error) { throw error }
            return error
        }
    }
}
