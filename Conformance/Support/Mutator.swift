import HostCore
import ProviderModel

/// Seeded mutations of the inputs a plugin receives: byte flips, truncation,
/// insertion of hostile bytes, splicing, and structure-aware edits of header
/// lists. Everything it makes is reproducible from the generator's seed.
struct Mutator {
    var random: SeededGenerator

    /// Bytes that break parsers: quotes, brackets, controls, NUL, CR/LF, invalid UTF-8, long digits.
    private static let hostile: [[UInt8]] = [
        Array("\"".utf8), Array("{".utf8), Array("}".utf8), Array("[".utf8), Array("]".utf8), [0], [0xff], [0xc3],
        Array("\r\n".utf8), Array("\\u0000".utf8), Array("99999999999999999999999".utf8), Array("-1".utf8),
        Array("null".utf8), Array(",".utf8), Array(":".utf8), [0xed, 0xa0, 0x80], Array("=".utf8),
    ]

    mutating func bytes(_ input: [UInt8]) -> [UInt8] {
        var output = input
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            switch Int.random(in: 0..<7, using: &random) {
            case 0 where !output.isEmpty:
                let index = Int.random(in: 0..<output.count, using: &random)
                output[index] ^= UInt8(1 << Int.random(in: 0..<8, using: &random))
            case 1 where !output.isEmpty:
                output.removeSubrange(Int.random(in: 0..<output.count, using: &random)...)
            case 2:
                let at = Int.random(in: 0...output.count, using: &random)
                output.insert(contentsOf: Self.hostile.randomElement(using: &random)!, at: at)
            case 3 where output.count > 1:
                let start = Int.random(in: 0..<output.count, using: &random)
                let end = Int.random(in: start...output.count, using: &random)
                output.insert(contentsOf: output[start..<end], at: Int.random(in: 0...output.count, using: &random))
            case 4 where !output.isEmpty:
                let start = Int.random(in: 0..<output.count, using: &random)
                output.removeSubrange(start..<min(output.count, start + Int.random(in: 1...16, using: &random)))
            case 5:
                output = Array((0..<Int.random(in: 0...64, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) })
            default:
                output.append(contentsOf: Self.hostile.randomElement(using: &random)!)
            }
        }
        return output
    }

    mutating func string(_ input: String) -> String {
        String(decoding: bytes(Array(input.utf8)), as: UTF8.self)
    }

    mutating func headers(_ input: [KeyValue]) -> [KeyValue] {
        var output = input
        switch Int.random(in: 0..<4, using: &random) {
        case 0 where !output.isEmpty:
            output.remove(at: Int.random(in: 0..<output.count, using: &random))
        case 1 where !output.isEmpty:
            let index = Int.random(in: 0..<output.count, using: &random)
            output[index].value = string(output[index].value)
        case 2 where !output.isEmpty:
            output.append(output[Int.random(in: 0..<output.count, using: &random)])
        default:
            output.append(KeyValue(string("x-fuzz"), string("value")))
        }
        return output
    }

    mutating func pick<T>(_ values: [T]) -> T {
        values.randomElement(using: &random)!
    }

    mutating func chance(_ percent: Int) -> Bool {
        Int.random(in: 0..<100, using: &random) < percent
    }
}
