import BatchSenderABI

// Reading C views into Swift values. Every reader tolerates NULL with a zero
// length, and a NULL with a non-zero length reads as empty rather than
// trapping: a plugin or host that breaks the rule must not crash the other side.

extension bsp_str {
    public var string: String {
        guard len > 0, let ptr else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: ptr, count: len), as: UTF8.self)
    }
}

extension bsp_bytes {
    public var array: [UInt8] {
        guard len > 0, let ptr else { return [] }
        return Array(UnsafeBufferPointer(start: ptr, count: len))
    }
}

extension bsp_str_list {
    public var strings: [String] {
        guard count > 0, let items else { return [] }
        return UnsafeBufferPointer(start: items, count: count).map(\.string)
    }
}

extension bsp_pair_list {
    public var pairs: [KeyValue] {
        guard count > 0, let items else { return [] }
        return UnsafeBufferPointer(start: items, count: count).map { KeyValue($0.name.string, $0.value.string) }
    }
}

extension String {
    /// Passes a borrowed view of this string's UTF-8 to `body`, without copying a native string.
    public func withBSPStr<R>(_ body: (bsp_str) throws -> R) rethrows -> R {
        var copy = self
        return try copy.withUTF8 { utf8 in
            try body(bsp_str(ptr: UnsafeRawPointer(utf8.baseAddress)?.assumingMemoryBound(to: CChar.self), len: utf8.count))
        }
    }
}

/// Whether a table the other side handed us is large enough to contain a field.
/// Tables only grow at the end, so a field is readable when it ends within `struct_size`.
public func tableHas<Table>(_ table: UnsafePointer<Table>, size: UInt32, _ field: PartialKeyPath<Table>, fieldSize: Int) -> Bool {
    guard let offset = MemoryLayout<Table>.offset(of: field) else { return false }
    return offset + fieldSize <= Int(size)
}
