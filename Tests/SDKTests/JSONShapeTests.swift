import HostCore
import ProviderModel
import Testing

@Suite("JSONShape")
struct JSONShapeTests {
    static let telnyxAnswer = JSONShape.members(["data": .members(["id": .all]), "errors": .all])

    @Test("a provider's answer keeps the members its shape names, in arrays too, and nothing else")
    func keeps() throws {
        let text = #"{"data":{"id":"m-1","to":[{"phone_number":"+1","carrier":"x"}],"cost":{"amount":"0.1"}},"errors":[{"code":"1"}],"x":1e3}"#
        let value = try JSONParser.parse(Array(text.utf8), keeping: Self.telnyxAnswer)
        #expect(value == .object(["data": .object(["id": "m-1"]), "errors": .array([.object(["code": "1"])])]))
        let batch = try JSONParser.parse(Array(#"{"data":[{"id":"a","z":2},{"id":"b"},"c"]}"#.utf8), keeping: .members(["data": .members(["id": .all])]))
        #expect(batch == .object(["data": .array([.object(["id": "a"]), .object(["id": "b"]), "c"])]))
    }

    @Test("a member left out is still checked: bad JSON, bad UTF-8 and nesting past the cap in it are refused as parse refuses them")
    func checksWhatItSkips() {
        let deep = "{\"x\":" + String(repeating: "[", count: 300) + String(repeating: "]", count: 300) + "}"
        for text in [#"{"x":[1,]}"#, #"{"x":"\q"}"#, #"{"x":1e999}"#, #"{"x":{"a" 1}}"#, "{\"x\":\"a\u{1}\"}", deep, #"{"x":tru}"#] {
            let full = Result { () throws(JSONParseError) in try JSONParser.parse(Array(text.utf8)) }
            let shaped = Result { () throws(JSONParseError) in try JSONParser.parse(Array(text.utf8), keeping: Self.telnyxAnswer) }
            #expect(throws: JSONParseError.self) { try shaped.get() }
            #expect(shaped.failure == full.failure, "\(text.prefix(40))")
        }
        let badUTF8: [UInt8] = Array(#"{"x":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(badUTF8, keeping: Self.telnyxAnswer) }
    }

    /// Documents written as text (duplicate names, escapes, exponents, whitespace), half of them then damaged: for
    /// each shape, the shaped parse refuses what `parse` refuses, at the same byte for the same reason, and
    /// otherwise gives `shape.apply(to:)` of `parse`'s value.
    @Test("random documents and damaged ones: the shaped parse is parse cut to the shape, or the same refusal")
    func agreesWithParse() {
        var random = SeededGenerator(seed: 11)
        let shapes: [JSONShape] = [.all, .members([:]), Self.telnyxAnswer, .members(["k": .members(["id": .all, "k": .all])])]
        var refused = 0, kept = 0
        for round in 0..<4_000 {
            var bytes = Array(Self.document(depth: 0, random: &random).utf8)
            if round % 2 == 1, !bytes.isEmpty {
                let at = Int.random(in: 0..<bytes.count, using: &random)
                if Bool.random(using: &random) { bytes.removeSubrange(at...) } else {
                    bytes[at] = [UInt8(ascii: "{"), UInt8(ascii: "]"), UInt8(ascii: ","), UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x80, 0x01,
                                 UInt8(ascii: "e")].randomElement(using: &random)!
                }
            }
            let full = Result { () throws(JSONParseError) in try JSONParser.parse(bytes) }
            if full.failure != nil { refused += 1 } else { kept += 1 }
            for shape in shapes {
                let shaped = Result { () throws(JSONParseError) in try JSONParser.parse(bytes, keeping: shape) }
                #expect(shaped.failure == full.failure, "\(String(decoding: bytes, as: UTF8.self))")
                #expect(shaped.value == full.value.map(shape.apply), "\(String(decoding: bytes, as: UTF8.self))")
            }
        }
        // Both kinds were tried in numbers.
        #expect(refused > 1_000 && kept > 1_000, "refused \(refused), kept \(kept)")
    }

    static func document(depth: Int, random: inout SeededGenerator) -> String {
        let space = [" ", "", "\n", "\t "].randomElement(using: &random)!
        switch Int.random(in: depth > 4 ? 0..<5 : 0..<7, using: &random) {
        case 0: return ["null", "true", "false"].randomElement(using: &random)!
        case 1: return ["0", "-12", "3.25", "1e3", "-0.5E-2", "12345678901234567890", "1E400"].randomElement(using: &random)!
        case 2, 3:
            let pieces = ["a", "id", "\\\"", "\\\\", "\\n", "\\u00e9", "\\ud83d\\ude80", "é", "🚀", " ", "\\/"]
            return "\"" + (0..<Int.random(in: 0..<5, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined() + "\""
        case 4: return "\"id-\(Int.random(in: 0..<100, using: &random))\""
        case 5:
            return "[" + space + (0..<Int.random(in: 0..<4, using: &random)).map { _ in document(depth: depth + 1, random: &random) }
                .joined(separator: "," + space) + "]"
        default:
            let names = ["data", "id", "errors", "k", "x", "\\u0069d", "é"]
            return "{" + space + (0..<Int.random(in: 0..<5, using: &random)).map { _ in
                "\"" + names.randomElement(using: &random)! + "\"" + space + ":" + document(depth: depth + 1, random: &random)
            }.joined(separator: ",") + space + "}"
        }
    }
}

extension Result {
    var value: Success? { try? get() }
}
