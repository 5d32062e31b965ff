import ProviderModel

/// Values an attacker puts in a header or a body member to break the code that
/// reads numbers, lengths and dates: the ends of Int64 and one past them, digits
/// no integer holds, signs and fractions, nothing, a megabyte, NUL and invalid
/// UTF-8, and dates outside years 1…9999 in the forms providers use.
struct HostileValue: Sendable {
    var label: String
    var bytes: [UInt8]
    /// Whether it can stand as a JSON number token (for a member that holds a number).
    var isNumber = false

    init(_ label: String, _ text: String, number: Bool = false) {
        self.label = label
        bytes = Array(text.utf8)
        isNumber = number
    }

    init(_ label: String, bytes: [UInt8]) {
        self.label = label
        self.bytes = bytes
    }

    /// The values for a field whose genuine value is `original`: the fixed list, and the
    /// original itself followed by a NUL or invalid UTF-8 (a reader that stops at a NUL sees the genuine value).
    /// `large` bounds the long value: a megabyte in headers and top-level members, less deep in a
    /// body, where each one costs a parse of the whole document and the point (no length limit) is the same.
    static func all(replacing original: [UInt8], large: Int = megabyte) -> [HostileValue] {
        let long = large == megabyte ? [] : [HostileValue("\(large / 1024) KiB of digits", String(repeating: "9", count: large))]
        return fixed.filter { large == megabyte || $0.bytes.count < large } + long + [
            HostileValue("the genuine value, a NUL and more", bytes: original + [0] + Array("0junk".utf8)),
            HostileValue("the genuine value and invalid UTF-8", bytes: original + [0xff, 0xfe]),
        ]
    }

    static let megabyte = 1 << 20

    static let fixed: [HostileValue] = [
        HostileValue("INT64_MIN", "-9223372036854775808", number: true),
        HostileValue("INT64_MAX", "9223372036854775807", number: true),
        HostileValue("INT64_MAX + 1", "9223372036854775808", number: true),
        HostileValue("INT64_MIN - 1", "-9223372036854775809", number: true),
        HostileValue("a 30-digit number", "123456789012345678901234567890", number: true),
        HostileValue("a negative 30-digit number", "-123456789012345678901234567890", number: true),
        HostileValue("a negative number", "-1700000000", number: true),
        HostileValue("minus one", "-1", number: true),
        HostileValue("a fractional number", "1700000000.5", number: true),
        HostileValue("a negative fraction", "-0.000001", number: true),
        HostileValue("an exponent past Double", "1e400", number: true),
        HostileValue("year 10000 in Unix milliseconds", "253402300800000", number: true),
        HostileValue("an empty value", ""),
        HostileValue("1 MiB of digits", String(repeating: "9", count: megabyte)),
        HostileValue("a NUL alone", bytes: [0]),
        HostileValue("invalid UTF-8", bytes: [0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]),
        HostileValue("an ISO 8601 date in year 0", "0000-01-01T00:00:00Z"),
        HostileValue("an ISO 8601 date in year 10000", "10000-01-01T00:00:00.000Z"),
        HostileValue("an ISO 8601 date in a negative year", "-0001-12-31T23:59:59Z"),
        HostileValue("an ISO 8601 date with 30 fraction digits", "2023-11-14T22:13:20.123456789012345678901234567890Z"),
        HostileValue("an ISO 8601 date a 30-digit offset away", "2023-11-14T22:13:20+123456789012345678901234567890:00"),
        HostileValue("an HTTP date in year 0", "Sat, 01 Jan 0000 00:00:00 GMT"),
        HostileValue("an HTTP date in year 10000", "Sat, 01 Jan 10000 00:00:00 GMT"),
        HostileValue("an HTTP date in a negative year", "Fri, 31 Dec -001 23:59:59 GMT"),
    ]
}

/// Where a hostile value goes in a JSON body: a member, an array item, or the
/// JSON document held in a string (SNS carries the SES notification so).
enum JSONStep: Hashable, Sendable, CustomStringConvertible {
    case member(String)
    case item(Int)
    case embedded

    var description: String {
        switch self {
        case .member(let name): name
        case .item(let index): "[\(index)]"
        case .embedded: "(JSON in the string)"
        }
    }
}

enum HostileJSON {
    /// Every leaf (string, number, bool, null) of `value` and its path, descending into arrays
    /// (their first item) and into strings that hold a JSON object or array.
    static func leaves(_ value: JSONValue, depth: Int = 0) -> [(path: [JSONStep], leaf: JSONValue)] {
        guard depth < 12 else { return [] }
        switch value {
        case .object(let object):
            return object.keys.sorted().flatMap { key in
                leaves(object[key] ?? .null, depth: depth + 1).map { ([.member(key)] + $0.path, $0.leaf) }
            }
        case .array(let items):
            guard let first = items.first else { return [] }
            return leaves(first, depth: depth + 1).map { ([.item(0)] + $0.path, $0.leaf) }
        case .string(let text):
            guard let inner = embedded(text) else { return [([], value)] }
            return [([], value)] + leaves(inner, depth: depth + 1).map { ([.embedded] + $0.path, $0.leaf) }
        default:
            return [([], value)]
        }
    }

    /// `value` written as compact JSON with the leaf at `path` replaced by `token`, raw bytes
    /// (a quoted string or a number), so invalid UTF-8 and NUL reach the plugin as they are.
    static func render(_ value: JSONValue, replacing path: ArraySlice<JSONStep>, with token: [UInt8]) -> [UInt8] {
        guard let step = path.first else { return token }
        let rest = path.dropFirst()
        switch (step, value) {
        case (.member(let name), .object(let object)):
            var bytes: [UInt8] = [UInt8(ascii: "{")]
            for (index, key) in object.keys.sorted().enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                bytes += JSONValue.string(key).compactBytes + [UInt8(ascii: ":")]
                let member = object[key] ?? .null
                bytes += key == name ? render(member, replacing: rest, with: token) : member.compactBytes
            }
            return bytes + [UInt8(ascii: "}")]
        case (.item(let at), .array(let items)):
            var bytes: [UInt8] = [UInt8(ascii: "[")]
            for (index, item) in items.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                bytes += index == at ? render(item, replacing: rest, with: token) : item.compactBytes
            }
            return bytes + [UInt8(ascii: "]")]
        case (.embedded, .string(let text)):
            guard let inner = embedded(text) else { return value.compactBytes }
            return quoted(render(inner, replacing: rest, with: token))
        default:
            return value.compactBytes
        }
    }

    /// Bytes as a JSON string: quotes, backslashes and controls escaped, every other byte (invalid UTF-8 too) as it is.
    static func quoted(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        let hex = Array("0123456789abcdef".utf8)
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), byte]
            case 0..<0x20: out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            default: out.append(byte)
            }
        }
        return out + [UInt8(ascii: "\"")]
    }

    private static func embedded(_ text: String) -> JSONValue? {
        guard let first = text.utf8.first(where: { $0 != 0x20 && $0 != 0x0a && $0 != 0x0d && $0 != 0x09 }),
              first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else { return nil }
        return JSONValue.parse(Array(text.utf8))
    }

    static func describe(_ path: [JSONStep]) -> String {
        path.map(\.description).joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
    }
}
