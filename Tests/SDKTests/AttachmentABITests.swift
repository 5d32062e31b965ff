import Foundation
import ProviderKit
import Testing

/// Swift Testing has an `Attachment` of its own.
private typealias Attachment = ProviderKit.Attachment

/// ABI 1.2: a message's files across the C boundary, in the JSON form, and as base64.
@Suite("ABI 1.2: attachments")
struct AttachmentABITests {
    @Test("base64 matches Foundation's for every length up to 300 and decodes back; broken base64 is refused")
    func base64() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...300 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let encoded = bytes.withUnsafeBytes { Base64.encode($0) }
            #expect(encoded == Data(bytes).base64EncodedString(), "length \(length)")
            #expect(Base64.decode(encoded) == bytes, "length \(length)")
        }
        for bad in ["a", "ab=c", "YQ==YQ==", "Y-8=", "YQ\n==", "Zh=="] { #expect(Base64.decode(bad) == nil, "\(bad)") }
    }

    fileprivate static let file = Attachment(filename: "report ✓.pdf", contentType: "application/pdf",
                                 content: AttachmentBytes((0..<1000).map { UInt8(truncatingIfNeeded: $0) }))

    @Test("files cross to C and back intact, and the C view points at the shared bytes rather than a copy")
    func cRoundTrip() throws {
        let message = OutboundMessage(id: "m1", channel: .email, to: ["a@example.org"], subject: "s", text: "t",
                                      attachments: [Self.file, Attachment(filename: "empty-type.txt", content: AttachmentBytes([1, 2, 3]))])
        let arena = CArena()
        let c = message.cMessage(in: arena)
        let list = c.pointee.attachments
        #expect(list.count == 2)
        #expect(UnsafeRawPointer(list.items[0].content.ptr) == Self.file.content.bytes.baseAddress, "no copy per message")
        #expect(OutboundMessage(reading: c) == message)
    }

    @Test("a message of a 1.1 host ends before the field: what lies past its struct_size reads as no files")
    func hostOfMinorOne() throws {
        let arena = CArena()
        let c = UnsafeMutablePointer(mutating: OutboundMessage(id: "m1", channel: .email, attachments: [Self.file]).cMessage(in: arena))
        c.pointee.struct_size = UInt32(try #require(MemoryLayout<bsp_message>.offset(of: \.attachments)))
        #expect(OutboundMessage(reading: c)?.attachments.isEmpty == true)
    }

    @Test("the JSON form carries files as standard base64, and refuses anything else")
    func json() throws {
        let message = OutboundMessage(id: "m1", channel: .email, attachments: [Self.file])
        let data = try JSONEncoder().encode(message)
        #expect(try JSONDecoder().decode(OutboundMessage.self, from: data) == message)
        let broken = #"{"id":"m1","channel":"email","attachments":[{"filename":"a","content":"not base64!"}]}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(OutboundMessage.self, from: Data(broken.utf8)) }
    }

    @Test("names and types a provider would mangle are refused before they are stored")
    func names() {
        for good in ["invoice.pdf", "Q3 report (final) ✓.xlsx", String(repeating: "a", count: 255)] {
            #expect(Attachment.filenameProblem(good) == nil, "\(good)")
        }
        for bad in ["", "a/b", "a\\b", "a\"b", "a\r\nb", "a\u{0}b", "a\u{85}b", String(repeating: "a", count: 256)] {
            #expect(Attachment.filenameProblem(bad) != nil, "\(bad.debugDescription)")
        }
        for good in ["", "application/pdf", "image/svg+xml", "application/vnd.ms-excel"] { #expect(Attachment.contentTypeProblem(good) == nil, "\(good)") }
        for bad in ["pdf", "text/", "/plain", "text/plain; charset=utf-8", "a/b/c", "text/pla in"] {
            #expect(Attachment.contentTypeProblem(bad) != nil, "\(bad)")
        }
    }
}
