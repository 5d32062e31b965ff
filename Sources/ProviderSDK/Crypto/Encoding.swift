import Foundation
import ProviderModel

/// Text encodings of bytes used by signature schemes.
public enum Encoding {
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        hex(Array(bytes))
    }

    /// Written straight into the string's storage: a digest's hex is taken once per webhook event.
    public static func hex(_ bytes: [UInt8]) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            for (index, byte) in bytes.enumerated() {
                out[2 * index] = hexDigit(byte >> 4)
                out[2 * index + 1] = hexDigit(byte & 0x0f)
            }
            return bytes.count * 2
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10 }

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
        bytes.withUnsafeBytes { Base64.encode($0) }
    }

    /// Standard base64, padded or not; nil when it is not base64.
    public static func unbase64(_ text: String) -> [UInt8]? {
        Base64.decode(bytes: text.utf8)
    }

    /// Standard base64, padded or not; nil when it is not base64 (`Base64.decode`).
    public static func unbase64(bytes text: some Collection<UInt8>) -> [UInt8]? {
        Base64.decode(bytes: text)
    }
}
