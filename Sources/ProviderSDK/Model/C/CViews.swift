import BatchSenderABI

// Reading C views into Swift values. Every reader tolerates NULL with a zero
// length, and a NULL with a non-zero length reads as empty rather than
// trapping: a plugin or host that breaks the rule must not crash the other side.

extension bsp_str {
    @inlinable
    public var string: String {
        guard len > 0, let ptr else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: ptr, count: len), as: UTF8.self)
    }
}

extension bsp_bytes {
    @inlinable
    public var array: [UInt8] {
        guard len > 0, let ptr else { return [] }
        return Array(UnsafeBufferPointer(start: ptr, count: len))
    }
}

extension bsp_str_list {
    @inlinable
    public var strings: [String] {
        guard count > 0, let items else { return [] }
        return UnsafeBufferPointer(start: items, count: count).map(\.string)
    }
}

extension bsp_pair_list {
    @inlinable
    public var pairs: [KeyValue] {
        guard count > 0, let items else { return [] }
        return UnsafeBufferPointer(start: items, count: count).map { KeyValue($0.name.string, $0.value.string) }
    }
}

extension String {
    /// Passes a borrowed view of this string's UTF-8 to `body`, without copying a native string.
    @inlinable
    public func withBSPStr<R>(_ body: (bsp_str) throws -> R) rethrows -> R {
        try withUTF8Buffer { utf8 in
            try body(bsp_str(ptr: UnsafeRawPointer(utf8.baseAddress)?.assumingMemoryBound(to: CChar.self), len: utf8.count))
        }
    }
}

extension Array where Element == KeyValue {
    /// Passes a C view of these pairs to `body`. The pairs' bytes are copied
    /// once into one temporary buffer (on the stack when small), so a call
    /// costs no heap allocation; the view dies when `body` returns.
    @inlinable
    public func withCPairs<R>(_ body: (bsp_pair_list) throws -> R) rethrows -> R {
        guard !isEmpty else { return try body(bsp_pair_list(items: nil, count: 0)) }
        var total = 0
        for pair in self { total += pair.name.utf8.count + pair.value.utf8.count }
        return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Swift.max(total, 1)) { bytes in
            try withUnsafeTemporaryAllocation(of: bsp_pair.self, capacity: count) { items in
                var cursor = 0
                func place(_ string: String) -> bsp_str {
                    let start = cursor
                    cursor += string.utf8.count
                    string.copyUTF8(into: UnsafeMutableBufferPointer(rebasing: bytes[start..<cursor]))
                    let pointer = UnsafeRawPointer(bytes.baseAddress! + start).assumingMemoryBound(to: CChar.self)
                    return bsp_str(ptr: pointer, len: cursor - start)
                }
                for (index, pair) in enumerated() {
                    items.initializeElement(at: index, to: bsp_pair(name: place(pair.name), value: place(pair.value)))
                }
                return try body(bsp_pair_list(items: UnsafePointer(items.baseAddress), count: count))
            }
        }
    }
}

extension String {
    /// Copies this string's UTF-8 into `target`, whose count must be `utf8.count`.
    /// One memcpy for native strings; iterating `utf8` byte by byte costs ~10× more.
    @inlinable
    public func copyUTF8(into target: UnsafeMutableBufferPointer<UInt8>) {
        withUTF8Buffer { source in
            guard let from = source.baseAddress else { return }
            target.baseAddress?.update(from: from, count: Swift.min(source.count, target.count))
        }
    }
}

/// Whether a table the other side handed us is large enough to contain a field.
/// Tables only grow at the end, so a field is readable when it ends within `struct_size`.
public func tableHas<Table>(_ table: UnsafePointer<Table>, size: UInt32, _ field: PartialKeyPath<Table>, fieldSize: Int) -> Bool {
    guard let offset = MemoryLayout<Table>.offset(of: field) else { return false }
    return offset + fieldSize <= Int(size)
}
