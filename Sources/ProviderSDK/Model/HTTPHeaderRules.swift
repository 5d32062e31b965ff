/// What makes a header safe to put on the wire: a name that is an RFC 9110
/// token, and a value without CR, LF or NUL (which would end its line early
/// and let the rest become a header of its own).
///
/// The checks read a string's UTF-8 as one buffer: walking `String.UTF8View`
/// byte by byte cost the host more than any other part of taking a request
/// from a plugin.
public enum HTTPHeaderRules {
    public static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    public static func isToken(_ name: String) -> Bool {
        name.withUTF8Buffer { isToken($0) }
    }

    public static func isToken(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !bytes.isEmpty else { return false }
        for byte in bytes where !isTokenByte(byte) { return false }
        return true
    }

    public static func isSafeValue(_ value: String) -> Bool {
        value.withUTF8Buffer { isSafeValue($0) }
    }

    public static func isSafeValue(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        for byte in bytes where byte == 13 || byte == 10 || byte == 0 { return false }
        return true
    }
}
