import BatchSenderABI

/// Memory for the C views of one call: strings, lists and structs are copied
/// in and live until the arena is released. One arena per call keeps
/// ownership simple: nothing outlives the call that needed it.
public final class CArena {
    private var blocks: [UnsafeMutableRawPointer] = []
    private var cursor: UnsafeMutableRawPointer?
    private var remaining = 0
    private let blockSize: Int
    /// Objects whose memory the C views point into (attachments' bytes), released with the arena.
    private var kept: [AnyObject] = []

    public init(blockSize: Int = 4096) {
        self.blockSize = blockSize
    }

    deinit {
        for block in blocks { block.deallocate() }
    }

    /// Forgets everything allocated, keeping the first block for the next use.
    public func reset() {
        kept.removeAll(keepingCapacity: true)
        guard let first = blocks.first else { return }
        for block in blocks.dropFirst() { block.deallocate() }
        blocks.removeSubrange(1...)
        cursor = first
        remaining = blockSize
    }

    /// Uninitialised memory for `count` values of `T`, aligned for `T`.
    public func allocate<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let alignment = max(MemoryLayout<T>.alignment, 8)
        let size = max(MemoryLayout<T>.stride * count, 1)
        if let cursor {
            let aligned = cursor.alignedUp(toMultipleOf: alignment)
            let padding = aligned - cursor
            if padding + size <= remaining {
                self.cursor = aligned + size
                remaining -= padding + size
                return aligned.bindMemory(to: T.self, capacity: count)
            }
        }
        let length = max(blockSize, size + alignment)
        let block = UnsafeMutableRawPointer.allocate(byteCount: length, alignment: alignment)
        blocks.append(block)
        cursor = block + size
        remaining = length - size
        return block.bindMemory(to: T.self, capacity: count)
    }

    /// Keeps `object` alive until the arena is reset or released: for views into memory the object owns.
    public func keep(_ object: AnyObject) {
        kept.append(object)
    }

    /// A pointer to a copy of `value`.
    public func store<T>(_ value: T) -> UnsafeMutablePointer<T> {
        let pointer = allocate(T.self, count: 1)
        pointer.initialize(to: value)
        return pointer
    }

    public func str(_ string: String) -> bsp_str {
        let count = string.utf8.count
        guard count > 0 else { return bsp_str(ptr: nil, len: 0) }
        let copy = allocate(UInt8.self, count: count)
        string.copyUTF8(into: UnsafeMutableBufferPointer(start: copy, count: count))
        return bsp_str(ptr: UnsafeRawPointer(copy).assumingMemoryBound(to: CChar.self), len: count)
    }

    public func list(_ strings: [String]) -> bsp_str_list {
        guard !strings.isEmpty else { return bsp_str_list(items: nil, count: 0) }
        let items = allocate(bsp_str.self, count: strings.count)
        for (index, string) in strings.enumerated() { (items + index).initialize(to: str(string)) }
        return bsp_str_list(items: UnsafePointer(items), count: strings.count)
    }

    public func pairs(_ pairs: [KeyValue]) -> bsp_pair_list {
        guard !pairs.isEmpty else { return bsp_pair_list(items: nil, count: 0) }
        let items = allocate(bsp_pair.self, count: pairs.count)
        for (index, pair) in pairs.enumerated() {
            (items + index).initialize(to: bsp_pair(name: str(pair.name), value: str(pair.value)))
        }
        return bsp_pair_list(items: UnsafePointer(items), count: pairs.count)
    }

    /// A NUL-terminated copy, for the descriptor's static strings.
    public func cString(_ string: String) -> UnsafePointer<CChar> {
        let utf8 = Array(string.utf8)
        let copy = allocate(CChar.self, count: utf8.count + 1)
        for (index, byte) in utf8.enumerated() { copy[index] = CChar(bitPattern: byte) }
        copy[utf8.count] = 0
        return UnsafePointer(copy)
    }
}
