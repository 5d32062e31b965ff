import Services
/// Finds the recipients of a JSON upload as its bytes arrive, one array element at a time, so that no
/// upload is ever held whole as a tree. In `.array` shape the body is the array; in `.member` shape the
/// body is an object whose named member's array is streamed, and everything else is kept as `rest` with
/// that array replaced by `null`, for the ordinary parser to check. The scanner only finds boundaries
/// (strings, escapes, nesting); each element is parsed and checked by the caller.
struct JSONRecipientScanner {
    enum Shape: Equatable {
        case array
        case member(String)
    }

    static let maxElementBytes = 64 << 10
    static let maxRestBytes = 4 << 20

    private let shape: Shape
    private let memberKey: [UInt8]
    /// The body without the streamed array (`.member` shape).
    private(set) var rest: [UInt8] = []
    /// Elements emitted so far.
    private(set) var elements = 0
    private var element: [UInt8] = []
    private var depth = 0
    private var inString = false
    private var escaped = false
    private var streaming = false
    private var streamDepth = 0
    private var arrayDone = false
    private var arrayStarted = false
    private var expectKey = false
    private var key: [UInt8]?
    private var lastKey: [UInt8] = []
    private var awaitingValue = false

    init(_ shape: Shape) {
        self.shape = shape
        if case .member(let name) = shape { memberKey = Array(name.utf8) } else { memberKey = [] }
    }

    typealias Emit = ([UInt8], Int) throws(APIError) -> Void

    mutating func consume(_ bytes: UnsafeRawBufferPointer, emit: Emit) throws(APIError) {
        for byte in bytes {
            if streaming { try stream(byte, emit: emit) } else if shape == .array { try outsideArray(byte) } else { try outsideMember(byte) }
        }
    }

    /// Ends the input: an array left open is an error.
    func finish() throws(APIError) {
        if streaming { throw APIError.invalid("body", "the array of recipients is never closed") }
        if shape == .array && !arrayDone { throw APIError.invalid("body", "must be a JSON array of recipients") }
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }

    private mutating func stream(_ byte: UInt8, emit: Emit) throws(APIError) {
        if inString {
            try keep(byte)
            if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
            return
        }
        switch byte {
        case UInt8(ascii: "\""):
            inString = true
            try keep(byte)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            depth += 1
            try keep(byte)
        case UInt8(ascii: "}"), UInt8(ascii: "]"):
            guard depth == streamDepth else {
                depth -= 1
                return try keep(byte)
            }
            guard byte == UInt8(ascii: "]") else { throw APIError.invalid("recipients[\(elements)]", "is not valid JSON (an unmatched })") }
            try endElement(last: true, emit: emit)
            depth -= 1
            streaming = false
            if shape == .array { arrayDone = true } else { try rest(Array("null".utf8)) }
        case UInt8(ascii: ",") where depth == streamDepth:
            try endElement(last: false, emit: emit)
        default:
            try keep(byte)
        }
    }

    private mutating func keep(_ byte: UInt8) throws(APIError) {
        guard element.count < Self.maxElementBytes else {
            throw APIError.invalid("recipients[\(elements)]", "is longer than \(Self.maxElementBytes) bytes")
        }
        element.append(byte)
    }

    private mutating func endElement(last: Bool, emit: Emit) throws(APIError) {
        var start = 0, end = element.count
        while start < end, Self.isSpace(element[start]) { start += 1 }
        while end > start, Self.isSpace(element[end - 1]) { end -= 1 }
        if start == end {
            // `[]` is an empty upload; an empty place after a comma is not.
            guard last && elements == 0 else { throw APIError.invalid("recipients[\(elements)]", "is missing (a comma too many?)") }
            return
        }
        try emit(Array(element[start..<end]), elements)
        elements += 1
        element.removeAll(keepingCapacity: true)
    }

    private mutating func outsideArray(_ byte: UInt8) throws(APIError) {
        if Self.isSpace(byte) { return }
        guard !arrayDone else { throw APIError.invalid("body", "holds something after the array of recipients") }
        guard byte == UInt8(ascii: "["), !arrayStarted else { throw APIError.invalid("body", "must be a JSON array of recipients") }
        arrayStarted = true
        streaming = true
        depth = 1
        streamDepth = 1
    }

    private mutating func rest(_ bytes: [UInt8]) throws(APIError) {
        guard rest.count + bytes.count <= Self.maxRestBytes else {
            throw APIError.tooLarge("apart from its recipients, the body is larger than \(Self.maxRestBytes) bytes", field: "body")
        }
        rest.append(contentsOf: bytes)
    }

    private mutating func outsideMember(_ byte: UInt8) throws(APIError) {
        if inString {
            try rest([byte])
            if escaped {
                escaped = false
                key?.append(byte)
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
                key?.append(byte)
            } else if byte == UInt8(ascii: "\"") {
                inString = false
                if let found = key { lastKey = found; key = nil }
            } else {
                key?.append(byte)
            }
            return
        }
        if Self.isSpace(byte) { return try rest([byte]) }
        if awaitingValue {
            awaitingValue = false
            if byte == UInt8(ascii: "[") {
                // The array's place in `rest` is taken by `null` when it closes.
                streaming = true
                depth = 2
                streamDepth = 2
                return
            }
        }
        try rest([byte])
        switch byte {
        case UInt8(ascii: "\""):
            inString = true
            if depth == 1 && expectKey { key = []; expectKey = false }
        case UInt8(ascii: "{"):
            depth += 1
            if depth == 1 { expectKey = true }
        case UInt8(ascii: "["):
            depth += 1
        case UInt8(ascii: "}"), UInt8(ascii: "]"):
            depth -= 1
        case UInt8(ascii: ",") where depth == 1:
            expectKey = true
        case UInt8(ascii: ":") where depth == 1:
            awaitingValue = lastKey == memberKey
            lastKey = []
        default:
            break
        }
    }
}
