/// Why a document is not JSON, and where: servers quote this back to the caller.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Byte offset of the first byte that could not be accepted.
    public var offset: Int
    public var reason: String

    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

/// A strict RFC 8259 parser over bytes. It exists because Foundation's decoder
/// costs several times more per document, and the sandbox and the API parse
/// hundreds of thousands of small documents a second. Nesting is capped so that
/// hostile input cannot exhaust the stack.
public struct JSONParser {
    public static let maximumDepth = 256

    /// `uniqueMembers`: an object naming a member twice is refused (RFC 8259 leaves it to the reader, and
    /// "the last one wins" lets two readers of one document see different values).
    public static func parse(_ bytes: some Collection<UInt8>, uniqueMembers: Bool = false) throws(JSONParseError) -> JSONValue {
        try parse(bytes, uniqueMembers: uniqueMembers, shape: .all)
    }

    /// The document cut to `shape`: it is refused exactly where `parse` refuses it (a member left out is still
    /// checked), and what is kept is what `shape.apply(to:)` makes of `parse`'s value. A member named twice keeps
    /// its last value, as `parse` does by default.
    public static func parse(_ bytes: some Collection<UInt8>, keeping shape: JSONShape) throws(JSONParseError) -> JSONValue {
        try parse(bytes, uniqueMembers: false, shape: shape)
    }

    /// Parses over the bytes' own storage when they have one, else over a copy.
    private static func parse(_ bytes: some Collection<UInt8>, uniqueMembers: Bool, shape: JSONShape) throws(JSONParseError) -> JSONValue {
        let result: Result<JSONValue, JSONParseError>? = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONParseError) in try parse(buffer: buffer, uniqueMembers: uniqueMembers, shape: shape) }
        }
        if let result { return try result.get() }
        return try Array(bytes).withUnsafeBufferPointer { buffer throws(JSONParseError) in
            try parse(buffer: buffer, uniqueMembers: uniqueMembers, shape: shape)
        }
    }

    static func parse(buffer: UnsafeBufferPointer<UInt8>, uniqueMembers: Bool = false, shape: JSONShape = .all) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(buffer)
        parser.uniqueMembers = uniqueMembers
        parser.skipWhitespace()
        let value = try parser.value(depth: 0, shape: shape)
        parser.skipWhitespace()
        guard parser.index == parser.end else { throw parser.failure("unexpected data after the document") }
        return value
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private var uniqueMembers = false
    private var index = 0
    private let end: Int

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        self.end = bytes.count
    }

    private func failure(_ reason: String) -> JSONParseError {
        JSONParseError(offset: index, reason: reason)
    }

    private mutating func skipWhitespace() {
        while index < end {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func value(depth: Int, shape: JSONShape = .all) throws(JSONParseError) -> JSONValue {
        guard index < end else { throw failure("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object(depth: depth + 1, shape: shape)
        case UInt8(ascii: "["): return try array(depth: depth + 1, shape: shape)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw failure("expected a value")
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let count = word.utf8CodeUnitCount
        guard end - index >= count else { throw failure("expected \(word)") }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] {
            throw failure("expected \(word)")
        }
        index += count
    }

    private mutating func object(depth: Int, shape: JSONShape) throws(JSONParseError) -> JSONValue {
        guard depth <= Self.maximumDepth else { throw failure("nested deeper than \(Self.maximumDepth) levels") }
        index += 1
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if index < end, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard index < end, bytes[index] == UInt8(ascii: "\"") else { throw failure("expected a member name in quotes") }
            let keyAt = index
            let key = try string()
            if uniqueMembers, members[key] != nil {
                index = keyAt
                throw failure("the member \"\(key.prefix(64))\" appears twice in one object")
            }
            skipWhitespace()
            guard index < end, bytes[index] == UInt8(ascii: ":") else { throw failure("expected ':' after a member name") }
            index += 1
            skipWhitespace()
            switch shape {
            case .all: members[key] = try value(depth: depth)
            case .members(let kept):
                if let inner = kept[key] { members[key] = try value(depth: depth, shape: inner) } else { try skip(depth: depth) }
            }
            skipWhitespace()
            guard index < end else { throw failure("unterminated object") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
            throw failure("expected ',' or '}' in an object")
        }
    }

    private mutating func array(depth: Int, shape: JSONShape) throws(JSONParseError) -> JSONValue {
        guard depth <= Self.maximumDepth else { throw failure("nested deeper than \(Self.maximumDepth) levels") }
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < end, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(elements) }
        while true {
            skipWhitespace()
            elements.append(try value(depth: depth, shape: shape))
            skipWhitespace()
            guard index < end else { throw failure("unterminated array") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(elements) }
            throw failure("expected ',' or ']' in an array")
        }
    }

    /// Checks one value as `value` would, building nothing: a member the shape leaves out.
    private mutating func skip(depth: Int) throws(JSONParseError) {
        guard index < end else { throw failure("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let closing = bytes[index] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            let inObject = closing == UInt8(ascii: "}")
            guard depth + 1 <= Self.maximumDepth else { throw failure("nested deeper than \(Self.maximumDepth) levels") }
            index += 1
            skipWhitespace()
            if index < end, bytes[index] == closing { index += 1; return }
            while true {
                skipWhitespace()
                if inObject {
                    guard index < end, bytes[index] == UInt8(ascii: "\"") else { throw failure("expected a member name in quotes") }
                    try skipString()
                    skipWhitespace()
                    guard index < end, bytes[index] == UInt8(ascii: ":") else { throw failure("expected ':' after a member name") }
                    index += 1
                    skipWhitespace()
                }
                try skip(depth: depth + 1)
                skipWhitespace()
                guard index < end else { throw failure(inObject ? "unterminated object" : "unterminated array") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == closing { index += 1; return }
                throw failure(inObject ? "expected ',' or '}' in an object" : "expected ',' or ']' in an array")
            }
        case UInt8(ascii: "\""): try skipString()
        default: _ = try value(depth: depth)
        }
    }

    /// Checks a string as `string` would; only an ASCII one without escapes is passed over unbuilt.
    private mutating func skipString() throws(JSONParseError) {
        let start = index
        index += 1
        while index < end {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { index += 1; return }
            if byte == UInt8(ascii: "\\") || byte >= 0x80 { break }
            if byte < 0x20 { throw failure("control character in a string") }
            index += 1
        }
        index = start
        _ = try string()
    }

    private mutating func string() throws(JSONParseError) -> String {
        index += 1
        let start = index
        // Fast path: no escapes, so the bytes are the string once UTF-8 is checked.
        var ascii = true
        while index < end {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                // ASCII needs no validation; String(validating:) costs a generic lookup per call.
                if ascii {
                    index += 1
                    return String(decoding: slice, as: UTF8.self)
                }
                guard let text = String(validating: slice, as: UTF8.self) else {
                    index = start
                    throw failure("string is not valid UTF-8")
                }
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw failure("control character in a string") }
            if byte >= 0x80 { ascii = false }
            index += 1
        }
        var decoded = Array(bytes[start..<index])
        while index < end {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: decoded, as: UTF8.self) else {
                    index = start
                    throw failure("string is not valid UTF-8")
                }
                index += 1
                return text
            case UInt8(ascii: "\\"):
                index += 1
                guard index < end else { throw failure("unterminated escape") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escape)
                case UInt8(ascii: "b"): decoded.append(0x08)
                case UInt8(ascii: "f"): decoded.append(0x0C)
                case UInt8(ascii: "n"): decoded.append(0x0A)
                case UInt8(ascii: "r"): decoded.append(0x0D)
                case UInt8(ascii: "t"): decoded.append(0x09)
                case UInt8(ascii: "u"): appendUTF8(of: try unicodeEscape(), to: &decoded)
                default:
                    index -= 1
                    throw failure("unknown escape")
                }
            default:
                if byte < 0x20 { throw failure("control character in a string") }
                decoded.append(byte)
                index += 1
            }
        }
        throw failure("unterminated string")
    }

    /// The scalar of a `\uXXXX` escape (the index is past the `u`), joining surrogate pairs.
    private mutating func unicodeEscape() throws(JSONParseError) -> Unicode.Scalar {
        let high = try hex4()
        if (0xD800..<0xDC00).contains(high) {
            guard end - index >= 6, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw failure("high surrogate without its low half")
            }
            index += 2
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low) else { throw failure("invalid low surrogate") }
            let scalar = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
            return Unicode.Scalar(scalar)!
        }
        guard let scalar = Unicode.Scalar(high) else { throw failure("lone low surrogate") }
        return scalar
    }

    private mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard end - index >= 4 else { throw failure("short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("invalid hex digit in \\u escape")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    private func appendUTF8(of scalar: Unicode.Scalar, to output: inout [UInt8]) {
        output.append(contentsOf: UTF8.encode(scalar)!)
    }

    private mutating func number() throws(JSONParseError) -> Double {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < end else { throw failure("expected a digit") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else if isDigit(bytes[index]) {
            while index < end, isDigit(bytes[index]) { index += 1 }
        } else {
            throw failure("expected a digit")
        }
        var integral = true
        if index < end, bytes[index] == UInt8(ascii: ".") {
            integral = false
            index += 1
            guard index < end, isDigit(bytes[index]) else { throw failure("expected a digit after '.'") }
            while index < end, isDigit(bytes[index]) { index += 1 }
        }
        if index < end, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            integral = false
            index += 1
            if index < end, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < end, isDigit(bytes[index]) else { throw failure("expected a digit in the exponent") }
            while index < end, isDigit(bytes[index]) { index += 1 }
        }
        let text = UnsafeBufferPointer(rebasing: bytes[start..<index])
        if integral, text.count <= 18 {
            var value: Int64 = 0
            var negative = false
            for byte in text {
                if byte == UInt8(ascii: "-") { negative = true; continue }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            return Double(negative ? -value : value)
        }
        guard let value = Double(String(decoding: text, as: UTF8.self)), value.isFinite else {
            index = start
            throw failure("number out of range")
        }
        return value
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}
