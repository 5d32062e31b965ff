/// One recipient as an upload names it, before it is checked against the batch:
/// `line` is its CSV line or its 1-based place in a JSON array.
struct RecipientRow: Sendable {
    var line: Int
    var address: String
    /// A JSON object of the recipient's template variables.
    var variablesJSON: String
}

/// Appends rows in the text format of PostgreSQL's COPY: tab-separated,
/// newline-terminated, with backslash, tab, newline and carriage return escaped.
struct CopyRowEncoder {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    mutating func append(_ row: RecipientRow) {
        bytes.append(contentsOf: String(row.line).utf8)
        bytes.append(0x09)
        field(row.address)
        bytes.append(0x09)
        field(row.variablesJSON)
        bytes.append(0x0A)
    }

    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
    }

    private mutating func field(_ text: String) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): bytes.append(0x5C); bytes.append(0x5C)
            case 0x09: bytes.append(0x5C); bytes.append(UInt8(ascii: "t"))
            case 0x0A: bytes.append(0x5C); bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(0x5C); bytes.append(UInt8(ascii: "r"))
            default: bytes.append(byte)
            }
        }
    }
}
