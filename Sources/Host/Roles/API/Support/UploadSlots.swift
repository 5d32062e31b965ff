import Synchronization

/// A count of uploads in progress, bounded: `take` fails when all are in use.
final class UploadSlots: Sendable {
    private let inUse = Atomic<Int>(0)
    let limit: Int

    init(limit: Int) { self.limit = limit }

    func take() -> Bool {
        if inUse.add(1, ordering: .relaxed).newValue <= limit { return true }
        inUse.subtract(1, ordering: .relaxed)
        return false
    }

    func give() { inUse.subtract(1, ordering: .relaxed) }
}
