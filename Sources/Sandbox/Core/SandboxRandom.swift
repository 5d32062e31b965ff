import HostCore
import ProviderCrypto
import Synchronization

/// The sandbox's randomness. Under `--seed` every draw comes from one seeded
/// stream, so a run driven by one client in order is repeated exactly; a
/// message's fate is a function of the seed and its id alone, so it does not
/// depend on the order in which concurrent requests arrive.
final class SandboxRandom: Sendable {
    private let seed: UInt64
    private let stream: Mutex<SeededGenerator>

    init(seed: UInt64?) {
        let chosen = seed ?? SecureRandom.bytes(8).map { $0.reduce(UInt64(0)) { $0 << 8 | UInt64($1) } } ?? 0x5EED
        self.seed = chosen
        stream = Mutex(SeededGenerator(seed: chosen))
    }

    /// Back to the start of the seeded stream (`POST /sandbox/reset`).
    func reset() {
        stream.withLock { $0 = SeededGenerator(seed: seed) }
    }

    var seedValue: UInt64 { seed }

    /// A uniform draw in [0, 1).
    func unit() -> Double {
        stream.withLock { Double($0.next() >> 11) * 0x1p-53 }
    }

    func next() -> UInt64 {
        stream.withLock { $0.next() }
    }

    /// A lower-case UUID (version 4 layout) from the stream.
    func uuid() -> String {
        let (high, low) = stream.withLock { ($0.next(), $0.next()) }
        return Self.uuid(high: high, low: low)
    }

    /// A generator private to one message: the same seed and id always give the same draws.
    func generator(for messageId: String) -> SeededGenerator {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325 ^ seed
        for byte in messageId.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return SeededGenerator(seed: hash)
    }

    /// An SES MessageId: `0100` and 12 hex digits, a UUID, then `-000000`.
    func sesMessageId() -> String {
        let (prefix, high, low) = stream.withLock { ($0.next(), $0.next(), $0.next()) }
        let uuid = Self.uuid(high: high, low: low)
        return String(unsafeUninitializedCapacity: 4 + 12 + 1 + 36 + 7) { buffer in
            var index = 0
            func put(_ byte: UInt8) {
                buffer[index] = byte
                index += 1
            }
            for byte in "0100".utf8 { put(byte) }
            for shift in stride(from: 44, through: 0, by: -4) { put(Self.hexDigits[Int((prefix >> UInt64(shift)) & 0xF)]) }
            put(UInt8(ascii: "-"))
            for byte in uuid.utf8 { put(byte) }
            for byte in "-000000".utf8 { put(byte) }
            return index
        }
    }

    /// A UUID that is a function of the seed and `name`: an event's id, the same for its duplicate.
    func derivedUUID(_ name: String) -> String {
        var generator = generator(for: name)
        return Self.uuid(high: generator.next(), low: generator.next())
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Formats 128 bits as `8-4-4-4-12` lower-case hex with the version-4 and
    /// variant bits set; written byte by byte, as it runs once per accepted message.
    static func uuid(high: UInt64, low: UInt64) -> String {
        let versioned = (high & ~0xF000) | 0x4000
        let varianted = (low & ~(0xC << 60)) | (0x8 << 60)
        return String(unsafeUninitializedCapacity: 36) { buffer in
            var index = 0
            for position in 0..<32 {
                if position == 8 || position == 12 || position == 16 || position == 20 {
                    buffer[index] = UInt8(ascii: "-")
                    index += 1
                }
                let word = position < 16 ? versioned : varianted
                let shift = UInt64(60 - 4 * (position % 16))
                buffer[index] = hexDigits[Int((word >> shift) & 0xF)]
                index += 1
            }
            return index
        }
    }
}

extension SeededGenerator {
    mutating func unit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }
}
