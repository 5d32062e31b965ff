import Services
import Testing
@testable import SenderAPI

@Suite("CSV recipient parser")
struct CSVRecipientParserTests {
    /// Feeds `text` in pieces of `piece` bytes, as a socket might deliver it.
    func parse(_ text: String, piece: Int) throws -> [RecipientRow] {
        var parser = CSVRecipientParser()
        var rows: [RecipientRow] = []
        let bytes = Array(text.utf8)
        var start = 0
        while start < bytes.count {
            let end = min(start + piece, bytes.count)
            try bytes[start..<end].withUnsafeBytes { raw in try parser.consume(raw) { rows.append($0) } }
            start = end
        }
        try parser.finish { rows.append($0) }
        return rows
    }

    @Test("any split of the input gives the same rows", arguments: [1, 2, 3, 7, 64, 100_000])
    func splits(piece: Int) throws {
        let text = "\u{FEFF}to,\"na,me\"\r\n\"a@x.com\",\"x\"\"y\"\r\nb@x.com,\"multi\r\nline\"\n\nc@x.com,"
        let rows = try parse(text, piece: piece)
        #expect(rows.map(\.address) == ["a@x.com", "b@x.com", "c@x.com"])
        #expect(rows.map(\.line) == [2, 3, 6])
        #expect(rows[0].variablesJSON == #"{"na,me":"x\"y"}"#)
        #expect(rows[1].variablesJSON == #"{"na,me":"multi\r\nline"}"#)
        #expect(rows[2].variablesJSON == #"{"na,me":""}"#)
    }

    @Test("invalid UTF-8 and NUL bytes are refused with their line")
    func invalidBytes() throws {
        var parser = CSVRecipientParser()
        let bad: [UInt8] = Array("email\na@x.com\n".utf8) + [0xC3, 0x28, 0x0A]
        let refused = try #require(throws: APIError.self) {
            try bad.withUnsafeBytes { raw in try parser.consume(raw) { _ in } }
            try parser.finish { _ in }
        }
        #expect(refused.field == "line 3", "the bad bytes are on line 3: \(refused)")
        var nul = CSVRecipientParser()
        do {
            try Array("email\na\0@x.com\n".utf8).withUnsafeBytes { raw in try nul.consume(raw) { _ in } }
            Issue.record("a NUL byte was accepted")
        } catch {
            #expect((error as? APIError)?.field == "line 2")
        }
    }

    @Test("COPY text escapes what would split a row or a column")
    func copyEscaping() {
        var encoder = CopyRowEncoder(capacity: 64)
        encoder.append(RecipientRow(line: 7, address: "a\\b\tc", variablesJSON: "{\"n\":\"x\ny\r\"}"))
        #expect(String(decoding: encoder.bytes, as: UTF8.self) == "7\ta\\\\b\\tc\t{\"n\":\"x\\ny\\r\"}\n")
    }
}
