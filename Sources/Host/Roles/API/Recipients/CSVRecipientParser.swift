import ProviderModel
import Services

/// Reads recipients from CSV (RFC 4180: a header row, `,` separators, `"`
/// quoting with `""` for a quote, CRLF or LF) as the bytes arrive, so that an
/// upload of any size is never held whole. The header must name the address
/// column (`address`, `email`, `phone` or `to`); every other column becomes
/// a template variable. Any malformed row stops the parse with its line number.
struct CSVRecipientParser {
    static let addressColumns: Set<String> = ["address", "email", "phone", "to"]
    static let maxFieldBytes = 16 << 10
    static let maxColumns = 100

    private enum State { case fieldStart, unquoted, quoted, quoteInQuoted }

    private var state = State.fieldStart
    private var field: [UInt8] = []
    private var record: [String] = []
    private var line = 1
    private var recordLine = 1
    private var header: [String]?
    private var addressColumn = 0
    private var sawBOMCheck = false
    private var bomPrefix: [UInt8] = []

    /// The lines begun so far, blank ones included: what bounds an upload that never ends.
    var lines: Int { line }

    /// The number of data rows emitted so far.
    private(set) var rows = 0

    mutating func consume(_ bytes: UnsafeRawBufferPointer, emit: (RecipientRow) throws(APIError) -> Void) throws(APIError) {
        for byte in bytes {
            if !sawBOMCheck {
                // A UTF-8 byte-order mark (spreadsheet exports) is not part of the first column's name.
                bomPrefix.append(byte)
                if [0xEF, 0xBB, 0xBF].starts(with: bomPrefix) {
                    if bomPrefix.count == 3 { sawBOMCheck = true; bomPrefix = [] }
                    continue
                }
                sawBOMCheck = true
                let pending = bomPrefix
                bomPrefix = []
                for earlier in pending { try step(earlier, emit: emit) }
                continue
            }
            try step(byte, emit: emit)
        }
    }

    /// Ends the input: the last record may lack its newline; an open quote is an error.
    mutating func finish(emit: (RecipientRow) throws(APIError) -> Void) throws(APIError) {
        if !bomPrefix.isEmpty {
            let pending = bomPrefix
            bomPrefix = []
            sawBOMCheck = true
            for byte in pending { try step(byte, emit: emit) }
        }
        switch state {
        case .quoted: throw problem(recordLine, "a quoted field is never closed")
        case .fieldStart where field.isEmpty && record.isEmpty: break
        default: try endRecord(emit: emit)
        }
        guard header != nil else { throw APIError.invalid("body", "the CSV is empty; its first row must be a header naming an address column") }
    }

    private mutating func step(_ byte: UInt8, emit: (RecipientRow) throws(APIError) -> Void) throws(APIError) {
        switch state {
        case .fieldStart, .unquoted:
            switch byte {
            case UInt8(ascii: ","): try endField(); state = .fieldStart
            case 0x0A: try endRecord(emit: emit); line += 1; recordLine = line; state = .fieldStart
            case 0x0D: break
            case UInt8(ascii: "\"") where state == .fieldStart: state = .quoted
            case UInt8(ascii: "\""): throw problem(line, "a quote inside an unquoted field; quote the whole field and double the quote")
            default: try append(byte); state = .unquoted
            }
        case .quoted:
            if byte == UInt8(ascii: "\"") { state = .quoteInQuoted }
            else {
                if byte == 0x0A { line += 1 }
                try append(byte)
            }
        case .quoteInQuoted:
            switch byte {
            case UInt8(ascii: "\""): try append(byte); state = .quoted
            case UInt8(ascii: ","): try endField(); state = .fieldStart
            case 0x0A: try endRecord(emit: emit); line += 1; recordLine = line; state = .fieldStart
            case 0x0D: break
            default: throw problem(line, "unexpected character after a closing quote")
            }
        }
    }

    private mutating func append(_ byte: UInt8) throws(APIError) {
        guard byte != 0 else { throw problem(line, "a NUL byte is not allowed") }
        guard field.count < Self.maxFieldBytes else { throw problem(recordLine, "a field is longer than \(Self.maxFieldBytes) bytes") }
        field.append(byte)
    }

    private mutating func endField() throws(APIError) {
        guard let text = String(validating: field, as: UTF8.self) else { throw problem(recordLine, "not valid UTF-8") }
        guard record.count < Self.maxColumns else { throw problem(recordLine, "more than \(Self.maxColumns) columns") }
        record.append(text)
        field.removeAll(keepingCapacity: true)
    }

    private mutating func endRecord(emit: (RecipientRow) throws(APIError) -> Void) throws(APIError) {
        try endField()
        defer { record.removeAll(keepingCapacity: true) }
        guard let header else { return try readHeader() }
        // Blank lines (a trailing newline, spacing) carry nothing.
        if record.count == 1 && record[0].isEmpty { return }
        guard record.count == header.count else {
            throw problem(recordLine, "\(record.count) fields, but the header has \(header.count)")
        }
        var writer = JSONWriter(capacity: 64)
        writer.beginObject()
        for (index, name) in header.enumerated() where index != addressColumn {
            writer.member(name, record[index])
        }
        writer.endObject()
        rows += 1
        try emit(RecipientRow(line: recordLine, address: record[addressColumn], variablesJSON: String(decoding: writer.bytes, as: UTF8.self)))
    }

    private mutating func readHeader() throws(APIError) {
        let names = record.map { $0.trimmingWhitespace() }
        guard let address = names.firstIndex(where: { Self.addressColumns.contains($0.lowercased()) }) else {
            throw problem(recordLine, "the header must name an address column (address, email, phone or to); found: \(names.joined(separator: ", ").prefix(200))")
        }
        var seen: Set<String> = []
        for name in names {
            guard !name.isEmpty else { throw problem(recordLine, "a header column has no name") }
            guard seen.insert(name).inserted else { throw problem(recordLine, "the column \"\(name)\" appears twice in the header") }
        }
        header = names
        addressColumn = address
    }

    private func problem(_ line: Int, _ reason: String) -> APIError {
        APIError.invalid("line \(line)", "CSV line \(line): \(reason); nothing in this upload was stored")
    }
}
