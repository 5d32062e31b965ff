/// A name and a value: an HTTP header, a tag, a metadata entry, a config entry.
public struct KeyValue: Sendable, Equatable, Hashable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

extension Array where Element == KeyValue {
    /// The first value whose name matches case-insensitively (HTTP header rules).
    public func first(named name: String) -> String? {
        first { $0.name.caseInsensitiveEquals(name) }?.value
    }

    /// Entries sorted by name, for output that is the same every time.
    public init(sortedFrom dictionary: [String: String]) {
        self = dictionary.sorted { $0.key < $1.key }.map { KeyValue($0.key, $0.value) }
    }

    public var dictionary: [String: String] {
        Dictionary(map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
    }
}

extension String {
    /// ASCII case-insensitive equality (HTTP names), byte by byte without allocating.
    public func caseInsensitiveEquals(_ other: String) -> Bool {
        guard utf8.count == other.utf8.count else { return false }
        return withUTF8Buffer { mine in other.withUTF8Buffer { theirs in Self.equalIgnoringASCIICase(mine, theirs) } }
    }

    private static func equalIgnoringASCIICase(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        for (x, y) in zip(a, b) where x != y {
            guard (x | 0x20) == (y | 0x20), (97...122).contains(x | 0x20) else { return false }
        }
        return true
    }
}
