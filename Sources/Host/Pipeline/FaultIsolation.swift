/// Finds the items of a round that fail on their own, so that the rest still commit. The round is
/// tried whole; when it fails, each group (a tenant's items, say) is tried alone, and a failing group
/// is split in halves until every failure is one item. A round with no failure costs one try; `k`
/// bad items among `n` cost about `2k·log2(n/k)` tries, and the good groups of other tenants one each.
///
/// `attempt` applies a range of items (a contiguous slice of the round, items of a group adjacent)
/// and must leave nothing behind when it throws (a savepoint rolled back). An error `isFatal` calls
/// bad (the server gone, a deadlock) stops the search and is rethrown: it is no item's fault.
public enum FaultIsolation {
    public static func run<Failure: Error>(groups: [Range<Int>], attempt: (Range<Int>) throws(Failure) -> Void,
                                           isFatal: (Failure) -> Bool) throws(Failure) -> [Int: Failure] {
        let nonEmpty = groups.filter { !$0.isEmpty }
        guard let first = nonEmpty.first?.lowerBound, let last = nonEmpty.last?.upperBound else { return [:] }
        var failures: [Int: Failure] = [:]
        // The whole round first: the common case, one try.
        let whole = first..<last
        if let failure = try tryOnce(whole, attempt, isFatal) {
            if nonEmpty.count == 1 {
                try bisect(whole, failure, attempt, isFatal, into: &failures)
            } else {
                for group in nonEmpty {
                    if let failure = try tryOnce(group, attempt, isFatal) { try bisect(group, failure, attempt, isFatal, into: &failures) }
                }
            }
        }
        return failures
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

    /// `range` failed with `failure`: a single item is the culprit; otherwise each half is tried.
    private static func bisect<Failure: Error>(_ range: Range<Int>, _ failure: Failure, _ attempt: (Range<Int>) throws(Failure) -> Void,
                                               _ isFatal: (Failure) -> Bool, into failures: inout [Int: Failure]) throws(Failure) {
        guard range.count > 1 else {
            failures[range.lowerBound] = failure
            return
        }
        let middle = range.lowerBound + range.count / 2
        for half in [range.lowerBound..<middle, middle..<range.upperBound] {
            if let failure = try tryOnce(half, attempt, isFatal) { try bisect(half, failure, attempt, isFatal, into: &failures) }
        }
    }
}
