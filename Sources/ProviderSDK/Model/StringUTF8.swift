extension String {
    /// Passes this string's UTF-8 to `body` as one buffer, without copying a
    /// native string (a small or bridged one is made contiguous first). The
    /// buffer dies with `body`. Byte loops over it are several times faster
    /// than walking `utf8`, which is why every byte-level check uses it.
    @inlinable
    public func withUTF8Buffer<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        var copy = self
        return try copy.withUTF8(body)
    }
}
