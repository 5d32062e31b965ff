import Foundation
import HostCore
import ProviderModel
import Testing

@Suite("JSONParser")
struct JSONParserTests {
    @Test("escapes, surrogate pairs, numbers and nesting decode as RFC 8259 says")
    func decodes() throws {
        let text = #" {"a":"q\"\\\/\b\f\n\r\t\u00e9\ud83d\ude80","n":[0,-1,2.5,1e3,-0.25E-2,1234567890123456],"t":true,"f":false,"z":null,"o":{}} "#
        let value = try JSONParser.parse(Array(text.utf8))
        #expect(value["a"]?.stringValue == "q\"\\/\u{8}\u{c}\n\r\té🚀")
        #expect(value["n"] == .array([.number(0), .number(-1), .number(2.5), .number(1000), .number(-0.0025), .number(1234567890123456)]))
        #expect(value["t"] == .bool(true))
        #expect(value["f"] == .bool(false))
        #expect(value["z"] == .null)
        #expect(value["o"] == .object([:]))
    }

    @Test("each malformed document is refused with the offset of the first bad byte", arguments: [
        ("", 0, "unexpected end of input"),
        ("{", 1, "expected a member name in quotes"),
        ("[1,]", 3, "expected a value"),
        (#"{"a" 1}"#, 5, "expected ':' after a member name"),
        ("[1 2]", 3, "expected ',' or ']' in an array"),
        ("01", 1, "unexpected data after the document"),
        ("-", 1, "expected a digit"),
        ("1.", 2, "expected a digit after '.'"),
        (#""\x""#, 2, "unknown escape"),
        (#""\ud800""#, 7, "high surrogate without its low half"),
        ("\"a\nb\"", 2, "control character in a string"),
        ("tru", 0, "expected true"),
        ("{} {}", 3, "unexpected data after the document"),
        ("1e999", 0, "number out of range"),
    ])
    func refuses(text: String, offset: Int, reason: String) {
        #expect(throws: JSONParseError(offset: offset, reason: reason)) { try JSONParser.parse(Array(text.utf8)) }
    }

    @Test("invalid UTF-8 inside a string and nesting past the cap are refused, not crashed on")
    func hostile() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        let deep = Array(repeating: UInt8(ascii: "["), count: 100_000)
        #expect(throws: JSONParseError(offset: JSONParser.maximumDepth, reason: "nested deeper than 256 levels")) {
            try JSONParser.parse(deep)
        }
    }

    @Test("random documents: same value as Foundation's JSONSerialization, and the writer's output parses back to it")
    func agreesWithFoundation() throws {
        var random = SeededGenerator(seed: 7)
        for _ in 0..<300 {
            let value = Self.randomValue(depth: 0, random: &random)
            let bytes = value.compactBytes
            #expect(try JSONParser.parse(bytes) == value)
            let foundation = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
            #expect(Self.convert(foundation) == value)
        }
    }

    static func randomValue(depth: Int, random: inout SeededGenerator) -> JSONValue {
        switch Int.random(in: depth > 3 ? 0..<4 : 0..<6, using: &random) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &random))
        case 2: return .number(Double(Int.random(in: -1_000_000...1_000_000, using: &random)) / 8)
        case 3:
            let alphabet = Array("aZ9 \"\\/\n\t\u{1}é✓🚀")
            return .string(String((0..<Int.random(in: 0..<12, using: &random)).map { _ in alphabet.randomElement(using: &random)! }))
        case 4: return .array((0..<Int.random(in: 0..<5, using: &random)).map { _ in randomValue(depth: depth + 1, random: &random) })
        default:
            var members: [String: JSONValue] = [:]
            for index in 0..<Int.random(in: 0..<5, using: &random) { members["k\(index)"] = randomValue(depth: depth + 1, random: &random) }
            return .object(members)
        }
    }

    static func convert(_ object: Any) -> JSONValue {
        switch object {
        case is NSNull: return .null
        case let string as String: return .string(string)
        case let number as NSNumber:
            // Foundation on Linux marks numbers made from booleans with the C type "c".
            if String(cString: number.objCType) == "c" { return .bool(number.boolValue) }
            return .number(number.doubleValue)
        case let array as [Any]: return .array(array.map(convert))
        case let dictionary as [String: Any]: return .object(dictionary.mapValues(convert))
        default: return .null
        }
    }
}
