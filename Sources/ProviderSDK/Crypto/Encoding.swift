import Foundation

/// Text encodings of bytes used by signature schemes.
public enum Encoding {
    private static let hexDigits = Array("0123456789abcdef".utf8)

    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// nil for an odd length or a character that is not a hex digit.
    public static func unhex(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var index = 0
        while index < chars.count {
            guard let high = nibble(chars[index]), let low = nibble(chars[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    public static func base64(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
    }

    /// Standard base64, padded or not; nil when it is not base64.
    public static func unbase64(_ text: String) -> [UInt8]? {
        unbase64(bytes: text.utf8)
    }

    private static let base64Values: [UInt8] = {
        var table = [UInt8](repeating: 0xff, count: 256)
        for (index, byte) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(byte)] = UInt8(index)
        }
        return table
    }()

    /// Standard base64, padded or not; nil for any other character, misplaced
    /// padding, a length no encoding gives, or stray bits in the last character.
    public static func unbase64(bytes text: some Collection<UInt8>) -> [UInt8]? {
        if let decoded = text.withContiguousStorageIfAvailable({ decode($0) }) { return decoded }
        return decode(Array(text))
    }

    private static func decode(_ text: some RandomAccessCollection<UInt8>) -> [UInt8]? {
        var padding = 0
        for byte in text.reversed() {
            guard byte == UInt8(ascii: "="), padding < 3 else { break }
            padding += 1
        }
        let digitCount = text.count - padding
        guard padding <= 2, digitCount % 4 != 1, padding == 0 || text.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digitCount * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for digit in text.prefix(digitCount) {
            let value = base64Values[Int(digit)]
            guard value != 0xff else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        // Foundation (and the reference libraries' decoders) refuse non-zero leftover bits.
        guard accumulator & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return out
    }
}
