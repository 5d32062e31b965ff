/// A dictionary that never holds more than `capacity` entries: a new key past that evicts the oldest
/// inserted one. For caches keyed by what requests name (config ids, say), so that no flood of novel
/// keys can grow them. Eviction is first-in first-out, O(1): what a flood pushes out is its own
/// oldest keys once it fills the table, and a key used again is put back by its next miss.
/// Not synchronized: its owner holds it under a lock.
public struct BoundedTable<Key: Hashable, Value> {
    fileprivate struct Entry {
        var value: Value
        /// Where the key sits in `order`, so a slot reused by a later insert of the same key is told apart.
        var slot: Int
    }

    public let capacity: Int
    private var entries: [Key: Entry] = [:]
    /// The keys in insertion order, as a ring; `next` is the oldest slot, overwritten by the next insert.
    private var order: [Key?]
    private var next = 0

    public init(capacity: Int) {
        precondition(capacity > 0, "a table needs room for one entry")
        self.capacity = capacity
        order = Array(repeating: nil, count: capacity)
    }

    public var count: Int { entries.count }

    public subscript(key: Key) -> Value? {
        get { entries[key]?.value }
        set {
            guard let newValue else { entries[key] = nil; return }
            if var entry = entries[key] { entry.value = newValue; entries[key] = entry; return }
            insert(key, newValue)
        }
    }

    private mutating func insert(_ key: Key, _ value: Value) {
        // The slot's previous key leaves, unless it left already (removed, or inserted again into a newer slot).
        if let old = order[next], entries[old]?.slot == next { entries[old] = nil }
        order[next] = key
        entries[key] = Entry(value: value, slot: next)
        next = next + 1 == capacity ? 0 : next + 1
    }
}

extension BoundedTable: Sendable where Key: Sendable, Value: Sendable {}
extension BoundedTable.Entry: Sendable where Key: Sendable, Value: Sendable {}
