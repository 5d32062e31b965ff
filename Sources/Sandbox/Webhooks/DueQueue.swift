import Synchronization

/// Jobs ordered by the time they are due, earliest first (a binary min-heap),
/// shared by the code that schedules webhooks and the dispatcher that sends them.
final class DueQueue<Element: Sendable>: Sendable {
    private struct Item {
        var due: Int64
        var sequence: UInt64
        var element: Element

        func precedes(_ other: Item) -> Bool {
            due != other.due ? due < other.due : sequence < other.sequence
        }
    }

    private struct Heap {
        var items: [Item] = []
        var sequence: UInt64 = 0

        mutating func push(_ element: Element, due: Int64) {
            sequence += 1
            items.append(Item(due: due, sequence: sequence, element: element))
            var child = items.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard items[child].precedes(items[parent]) else { break }
                items.swapAt(child, parent)
                child = parent
            }
        }

        mutating func popFirst() -> Item? {
            guard !items.isEmpty else { return nil }
            items.swapAt(0, items.count - 1)
            let first = items.removeLast()
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < items.count, items[left].precedes(items[smallest]) { smallest = left }
                if right < items.count, items[right].precedes(items[smallest]) { smallest = right }
                guard smallest != parent else { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
            return first
        }
    }

    private let heap = Mutex(Heap())

    func push(_ element: Element, due: Int64) {
        heap.withLock { $0.push(element, due: due) }
    }

    /// Up to `limit` elements due at `now`, earliest first.
    func popDue(now: Int64, limit: Int) -> [Element] {
        heap.withLock { heap in
            var due: [Element] = []
            while due.count < limit, let first = heap.items.first, first.due <= now, let item = heap.popFirst() {
                due.append(item.element)
            }
            return due
        }
    }

    var count: Int { heap.withLock { $0.items.count } }

    func removeAll() {
        heap.withLock { $0.items.removeAll() }
    }
}
