import Foundation
import ProviderKit
import ResendProvider
import Testing

/// Swift Testing has an `Attachment` of its own.
private typealias Attachment = ProviderKit.Attachment

/// Resend's request bodies are written with JSONWriter, no longer Foundation's JSONEncoder. A retry sends the body
/// again under its Idempotency-Key, and Resend answers 409 to the same key with other bytes: a request first sent
/// by the earlier version and retried by this one must carry the bytes JSONEncoder made (sorted keys, slashes
/// unescaped), for any text.
@Suite("Resend request bodies")
struct ResendBodyTests {
    /// What the earlier version encoded: the same members, through JSONEncoder.
    struct Email: Encodable {
        struct Tag: Encodable { var name, value: String }
        var from: String
        var to: [String]
        var subject: String
        var html: String?
        var text: String?
        var cc: [String]?
        var bcc: [String]?
        var replyTo: [String]?
        var headers: [String: String]?
        var tags: [Tag]?
        enum CodingKeys: String, CodingKey {
            case from, to, subject, html, text, cc, bcc, headers, tags
            case replyTo = "reply_to"
        }

        init(_ m: OutboundMessage) {
            from = m.from
            to = m.to
            subject = m.subject
            html = m.html.isEmpty ? nil : m.html
            text = m.text.isEmpty ? nil : m.text
            cc = m.cc.isEmpty ? nil : m.cc
            bcc = m.bcc.isEmpty ? nil : m.bcc
            replyTo = m.replyTo.isEmpty ? nil : m.replyTo
            headers = m.headers.isEmpty ? nil : Dictionary(m.headers.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
            tags = m.tags.isEmpty ? nil : m.tags.map { Tag(name: $0.name, value: $0.value) }
        }
    }

    static let awkward = "quote \" backslash \\ slash / tab \t newline \n nul \u{0} unit \u{1f} del \u{7f} ✓ 🚀 é"

    static let messages = [
        OutboundMessage(id: "m1", channel: .email, from: "Ops <ops@example.com>", to: ["a@example.com"], cc: ["c@example.com"],
                        bcc: ["b@example.com"], replyTo: ["r@example.com"], subject: awkward, html: "<p>\(awkward)</p>", text: awkward,
                        headers: [KeyValue("X-Zeta", "z"), KeyValue("X-Alpha", "a/b"), KeyValue("X-Mid", "m"), KeyValue("X-f", "f"),
                                  KeyValue("X-e\u{301}", "decomposed é")],
                        tags: [KeyValue("campaign", "spring_2026"), KeyValue("a-b", "c")]),
        OutboundMessage(id: "m2", channel: .email, from: "ops@example.com", to: ["d@example.com", "e@example.com"], subject: "Hi {{x}}",
                        text: "plain only"),
    ]

    func body(_ messages: [OutboundMessage]) throws -> [UInt8] {
        let configuration = try PluginConfiguration(validating: [KeyValue("api_key", "re_test")], against: ResendProvider.descriptor.configKeys)
        let provider = try ResendProvider(configuration: configuration, context: LocalContext())
        let prepared = try provider.prepare(messages, context: LocalContext())
        return try #require(prepared.requests.first).body
    }

    @Test("one email and a batch: the same bytes JSONEncoder wrote, with sorted keys and unescaped slashes")
    func sameBytesAsBefore() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        let one = try body([Self.messages[0]])
        #expect(String(decoding: one, as: UTF8.self) == String(decoding: try encoder.encode(Email(Self.messages[0])), as: UTF8.self))
        let batch = try body(Self.messages)
        #expect(String(decoding: batch, as: UTF8.self) == String(decoding: try encoder.encode(Self.messages.map(Email.init)), as: UTF8.self))
    }

    @Test("an email with files goes alone through POST /emails with its bytes as base64; the rest of the chunk still goes as one batch")
    func attachmentsGoAlone() throws {
        let configuration = try PluginConfiguration(validating: [KeyValue("api_key", "re_test")], against: ResendProvider.descriptor.configKeys)
        let provider = try ResendProvider(configuration: configuration, context: LocalContext())
        let bytes: [UInt8] = [0, 255, 10, 13, 34, 92, 1]
        let file = Attachment(filename: "a.pdf", contentType: "application/pdf", content: AttachmentBytes(bytes))
        var messages = (0..<4).map { OutboundMessage(id: "m\($0)", channel: .email, from: "s@example.com", to: ["r\($0)@example.com"], subject: "s", text: "t") }
        messages[1].attachments = [file]
        messages[3].attachments = [file]
        let prepared = try provider.prepare(messages, context: LocalContext())
        #expect(prepared.refused.isEmpty)
        #expect(prepared.requests.map(\.messageIndices) == [[1], [3], [0, 2]])
        #expect(prepared.requests.map { $0.url.hasSuffix("/emails") } == [true, true, false])
        let alone = try #require(JSONSerialization.jsonObject(with: Data(prepared.requests[0].body)) as? [String: Any])
        let files = alone["attachments"] as? [[String: String]]
        #expect(files == [["content": Data(bytes).base64EncodedString(), "content_type": "application/pdf", "filename": "a.pdf"]], "\(alone)")
        #expect(prepared.requests[0].headers.first { $0.name == "idempotency-key" }?.value == "m1")
        #expect(!String(decoding: prepared.requests[2].body, as: UTF8.self).contains("attachments"))
    }
}
