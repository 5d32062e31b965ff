/// Whole numbers taken from a request — a header, a body field, a query value — read with bounds
/// and compared without overflow. Swift traps on `Int64` overflow, and a plugin runs inside the
/// host, so `nowSeconds - Int64(header)` with a header of `-9223372036854775808` would stop the
/// whole platform. Every number that arrives from outside goes through here (docs/plugin-authors.md).
public enum BoundedInteger {
    /// Why a text is not a number the caller can use; `description` completes "must be …".
    public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        /// Not ASCII digits with at most a leading `-` (no `+`, spaces, fraction or exponent).
        case notAnInteger
        /// A whole number, but outside the range (however many digits it has).
        case outOfRange(ClosedRange<Int64>)

        public var description: String {
            switch self {
            case .notAnInteger: "a whole number in decimal digits"
            case .outOfRange(let range): "a whole number from \(range.lowerBound) to \(range.upperBound)"
            }
        }
    }

    /// The decimal integer `text` spells, when it lies in `range`.
    public static func parse(_ text: some StringProtocol, in range: ClosedRange<Int64>) throws(Refusal) -> Int64 {
        try parse(utf8: text.utf8, in: range)
    }

    /// The decimal integer in `bytes` (UTF-8), when it lies in `range`: ASCII digits with an optional
    /// leading `-`. Any number of digits is read without overflow; too many is `.outOfRange`.
    public static func parse(utf8 bytes: some Collection<UInt8>, in range: ClosedRange<Int64>) throws(Refusal) -> Int64 {
        var index = bytes.startIndex
        let negative = index < bytes.endIndex && bytes[index] == UInt8(ascii: "-")
        if negative { index = bytes.index(after: index) }
        guard index < bytes.endIndex else { throw .notAnInteger }
        // Accumulated as a negative number, whose range reaches Int64.min; every byte is still checked
        // after an overflow, so that thirty digits and a letter is "not an integer", not "out of range".
        var value: Int64 = 0
        var overflowed = false
        while index < bytes.endIndex {
            let byte = bytes[index]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { throw .notAnInteger }
            if !overflowed {
                let (shifted, first) = value.multipliedReportingOverflow(by: 10)
                let (next, second) = shifted.subtractingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
                if first || second { overflowed = true } else { value = next }
            }
            index = bytes.index(after: index)
        }
        guard !overflowed else { throw .outOfRange(range) }
        if !negative {
            guard value != .min else { throw .outOfRange(range) }
            value = -value
        }
        guard range.contains(value) else { throw .outOfRange(range) }
        return value
    }

    /// The integer a JSON number (a `Double`) is exactly, when it lies in `range`; nil for a fraction,
    /// NaN, an infinity or anything out of range. `Int64(double)` and `Int(double)` trap on those.
    public static func exactly(_ value: Double, in range: ClosedRange<Int64>) -> Int64? {
        guard let integer = Int64(exactly: value), range.contains(integer) else { return nil }
        return integer
    }

    /// |a − b|, exact for every pair: the widest gap, Int64.min to Int64.max, is 2⁶⁴ − 1.
    public static func distance(_ a: Int64, _ b: Int64) -> UInt64 {
        a >= b ? UInt64(bitPattern: a &- b) : UInt64(bitPattern: b &- a)
    }

    /// Whether `value` lies within `tolerance` of `reference`, either way, without overflow.
    public static func isWithin(_ value: Int64, _ tolerance: Int64, of reference: Int64) -> Bool {
        distance(value, reference) <= tolerance.magnitude
    }

    /// `value × factor` held to `range`: a product past either end is that end, not a trap
    /// (a `Retry-After` of 10¹⁸ seconds is "as long as allowed").
    public static func product(_ value: Int64, _ factor: Int64, clampedTo range: ClosedRange<Int64>) -> Int64 {
        let (product, overflowed) = value.multipliedReportingOverflow(by: factor)
        if overflowed { return (value < 0) != (factor < 0) ? range.lowerBound : range.upperBound }
        return Swift.min(Swift.max(product, range.lowerBound), range.upperBound)
    }
}
