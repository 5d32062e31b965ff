/// Standard base64 (RFC 4648 §4, padded), written byte by byte: attachments are megabytes, and a plugin encodes
/// each one into every request that carries it.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    public static func encodedCount(_ count: Int) -> Int { (count + 2) / 3 * 4 }

    public static func append(_ input: UnsafeRawBufferPointer, to output: inout [UInt8]) {
        let count = input.count
        guard count > 0 else { return }
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: encodedCount(count)))
        alphabet.withUnsafeBufferPointer { table in
            output.withUnsafeMutableBufferPointer { out in
                var o = start, i = 0
                while i + 3 <= count {
                    let v = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
                    out[o] = table[Int(v >> 18)]; out[o + 1] = table[Int(v >> 12 & 63)]
                    out[o + 2] = table[Int(v >> 6 & 63)]; out[o + 3] = table[Int(v & 63)]
                    i += 3; o += 4
                }
                let left = count - i
                guard left > 0 else { return }
                let v = UInt32(input[i]) << 16 | (left == 2 ? UInt32(input[i + 1]) << 8 : 0)
                out[o] = table[Int(v >> 18)]; out[o + 1] = table[Int(v >> 12 & 63)]
                out[o + 2] = left == 2 ? table[Int(v >> 6 & 63)] : UInt8(ascii: "=")
                out[o + 3] = UInt8(ascii: "=")
            }
        }
    }

    public static func encode(_ input: UnsafeRawBufferPointer) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(encodedCount(input.count))
        append(input, to: &out)
        return String(decoding: out, as: UTF8.self)
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
    public static func decode(bytes text: some Collection<UInt8>) -> [UInt8]? {
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

    public static func decode(_ text: String) -> [UInt8]? { decode(bytes: text.utf8) }
}
