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

    /// A UUID that is a function of the seed and `name`: an event's id, the same for its duplicate.
    func derivedUUID(_ name: String) -> String {
        var generator = generator(for: name)
        return Self.uuid(high: generator.next(), low: generator.next())
    }

    static func uuid(high: UInt64, low: UInt64) -> String {
        let versioned = (high & ~0xF000) | 0x4000
        let varianted = (low & ~(0xC << 60)) | (0x8 << 60)
        let hex = Encoding.hex(withUnsafeBytes(of: versioned.bigEndian) { Array($0) } + withUnsafeBytes(of: varianted.bigEndian) { Array($0) })
        let characters = Array(hex)
        return String(characters[0..<8]) + "-" + String(characters[8..<12]) + "-" + String(characters[12..<16]) + "-"
            + String(characters[16..<20]) + "-" + String(characters[20..<32])
    }
}

extension SeededGenerator {
    mutating func unit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }
}
