/// Writes compact JSON straight into bytes: for request bodies a plugin
/// builds on every send, where Foundation's JSONEncoder (reflection, boxing,
/// generic metadata) costs more than the rest of the call. Keys are written
/// in the order given; strings are escaped per RFC 8259.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    /// Whether the container being written already holds a value (so the next needs a comma).
    private var filled: [Bool] = []

    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    /// Empties the writer for the next value, keeping its memory: one writer serves many small values.
    public mutating func clear() {
        bytes.removeAll(keepingCapacity: true)
        filled.removeAll(keepingCapacity: true)
        pendingValue = false
    }

    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        filled.append(false)
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        filled.removeLast()
    }

    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        filled.append(false)
    }

    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        filled.removeLast()
    }

    /// A member name; the value written next belongs to it.
    public mutating func key(_ name: String) {
        separate()
        escape(name)
        bytes.append(UInt8(ascii: ":"))
        // The value that follows must not add a comma of its own.
        pendingValue = true
    }

    public mutating func string(_ value: String) {
        separate()
        escape(value)
    }

    public mutating func bool(_ value: Bool) {
        separate()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    public mutating func number(_ value: Int64) {
        separate()
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func number(_ value: Double) {
        // Integers print without a fraction, as they were written.
        if value.rounded() == value, abs(value) < 1e15 { number(Int64(value)); return }
        separate()
        bytes.append(contentsOf: (value.isFinite ? String(value) : "null").utf8)
    }

    public mutating func null() {
        separate()
        bytes.append(contentsOf: "null".utf8)
    }

    /// Any value; object members in sorted order, so one value always gives the same bytes.
    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let flag): bool(flag)
        case .number(let number): self.number(number)
        case .string(let text): string(text)
        case .array(let elements):
            beginArray()
            for element in elements { self.value(element) }
            endArray()
        case .object(let members):
            beginObject()
            for name in members.keys.sorted() {
                key(name)
                self.value(members[name]!)
            }
            endObject()
        }
    }

    /// `"name":<any value>`.
    public mutating func member(_ name: String, value: JSONValue) {
        key(name)
        self.value(value)
    }

    /// `"name":<integer>`.
    public mutating func member(_ name: String, number: Int64) {
        key(name)
        self.number(number)
    }

    /// Writes `value` as it is: text that is already JSON (a JSONValue's compactText, say).
    public mutating func raw(_ json: String) {
        separate()
        bytes.append(contentsOf: json.utf8)
    }

    /// `"name":"value"`.
    public mutating func member(_ name: String, _ value: String) {
        key(name)
        string(value)
    }

    /// `"name":["a","b"]`.
    public mutating func member(_ name: String, strings: [String]) {
        key(name)
        beginArray()
        for value in strings { string(value) }
        endArray()
    }

    /// `"name":[{"<nameKey>":"…","<valueKey>":"…"},…]`: pairs as a list of objects (tags, headers).
    public mutating func member(_ name: String, pairs: [KeyValue], nameKey: String = "name", valueKey: String = "value") {
        key(name)
        beginArray()
        for pair in pairs {
            beginObject()
            member(nameKey, pair.name)
            member(valueKey, pair.value)
            endObject()
        }
        endArray()
    }

    private var pendingValue = false

    private mutating func separate() {
        if pendingValue {
            pendingValue = false
        } else if let last = filled.last, last {
            bytes.append(UInt8(ascii: ","))
        }
        if !filled.isEmpty { filled[filled.count - 1] = true }
    }

    private static let hex = Array("0123456789abcdef".utf8)

    private mutating func escape(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        // Most strings need no escaping: copy them whole. Scanned as one buffer: a scan through the UTF-8 view
        // goes a byte at a time through the string's representation, and was the writer's largest cost.
        var text = text
        let clean = text.withUTF8 { utf8 -> Bool in
            for byte in utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return false }
            bytes.append(contentsOf: utf8)
            return true
        }
        if clean {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0a: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0d: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0c: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x00..<0x20:
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                          Self.hex[Int(byte >> 4)], Self.hex[Int(byte & 0x0f)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}


extension JSONWriter {
    /// `"name":"<standard base64 of bytes, padded>"`, encoded straight into the output: a 10 MiB attachment
    /// costs one pass and no intermediate string.
    public mutating func member(_ name: String, base64 bytes: UnsafeRawBufferPointer) {
        key(name)
        raw("\"")
        Base64.append(bytes, to: &self.bytes)
        self.bytes.append(UInt8(ascii: "\""))
    }
}
