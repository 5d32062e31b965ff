import HostCore
import ProviderModel
import Services
import Testing
@testable import SenderAPI

/// The streaming scanner that finds a JSON upload's recipients: generated documents with hostile strings
/// and random whitespace, cut at random places, give back exactly their elements; mutated ones never trap.
@Suite("JSON recipient scanner")
struct JSONRecipientScannerTests {
    static let alphabet: [String] = ["a", "b", "@", ".", "\"", "\\", "[", "]", "{", "}", ",", ":", " ", "é", "😀", "\n", "\t", "\u{1}", "/"]

    static func string(_ random: inout SeededGenerator) -> String {
        (0..<Int.random(in: 0...12, using: &random)).map { _ in alphabet.randomElement(using: &random)! }.joined()
    }

    static func recipient(_ random: inout SeededGenerator) -> JSONValue {
        if Bool.random(using: &random) { return .string(string(&random)) }
        var variables: [String: JSONValue] = [:]
        for _ in 0..<Int.random(in: 0...3, using: &random) { variables[string(&random)] = .string(string(&random)) }
        return .object(["address": .string(string(&random)), "variables": .object(variables)])
    }

    /// `value` as JSON with random whitespace between tokens.
    static func text(_ value: JSONValue, _ random: inout SeededGenerator) -> String {
        func space() -> String { ["", " ", "\n", "\t ", "\r\n"].randomElement(using: &random)! }
        switch value {
        case .array(let items): return "[" + space() + items.map { text($0, &random) + space() }.joined(separator: "," + space()) + "]"
        case .object(let members):
            return "{" + space() + members.map { JSONValue.string($0.key).compactText + space() + ":" + space() + text($0.value, &random) }
                .joined(separator: "," + space()) + space() + "}"
        default: return value.compactText
        }
    }

    /// Feeds `bytes` in random pieces; the elements found, parsed, and the scanner.
    static func scan(_ bytes: [UInt8], _ shape: JSONRecipientScanner.Shape, _ random: inout SeededGenerator) throws
        -> ([JSONValue], JSONRecipientScanner) {
        var scanner = JSONRecipientScanner(shape)
        var found: [JSONValue] = []
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + Int.random(in: 1...64, using: &random))
            try bytes[start..<end].withUnsafeBytes { raw in
                try scanner.consume(raw) { element, index throws(APIError) in
                    if index != found.count { Issue.record("element \(index) after \(found.count)") }
                    found.append(try JSONFields.document(element, path: "recipients[\(index)]"))
                }
            }
            start = end
        }
        try scanner.finish()
        return (found, scanner)
    }

    @Test("an array body, cut anywhere, gives back each element exactly")
    func arrays() throws {
        var random = SeededGenerator(seed: 0x5CA7)
        for _ in 0..<400 {
            let recipients = (0..<Int.random(in: 0...30, using: &random)).map { _ in Self.recipient(&random) }
            let body = Self.text(.array(recipients), &random) + ["", " ", "\n"].randomElement(using: &random)!
            let (found, _) = try Self.scan(Array(body.utf8), .array, &random)
            #expect(found == recipients, "\(body)")
        }
    }

    @Test("an object body streams its recipients member and keeps the rest, with null in the array's place")
    func members() throws {
        var random = SeededGenerator(seed: 0xB0D1)
        for _ in 0..<300 {
            let recipients = (0..<Int.random(in: 0...20, using: &random)).map { _ in Self.recipient(&random) }
            var members: [(String, JSONValue)] = [("name", .string(Self.string(&random))), ("recipients", .array(recipients)),
                                                  ("payload", .object(["recipients": .array([.string("not these")]), "subject": .string(Self.string(&random))]))]
            members.shuffle(using: &random)
            let body = "{" + members.map { JSONValue.string($0.0).compactText + ":" + Self.text($0.1, &random) }.joined(separator: ",") + "}"
            let (found, scanner) = try Self.scan(Array(body.utf8), .member("recipients"), &random)
            #expect(found == recipients)
            var expected = Dictionary(uniqueKeysWithValues: members)
            expected["recipients"] = .null
            #expect(try JSONFields.document(scanner.rest) == .object(expected), "\(String(decoding: scanner.rest, as: UTF8.self))")
        }
    }

    @Test("mangled bodies never trap: each is refused with a field, or scanned")
    func mutations() {
        var random = SeededGenerator(seed: 0xF422)
        for round in 0..<3_000 {
            let recipients = (0..<Int.random(in: 0...6, using: &random)).map { _ in Self.recipient(&random) }
            let shape: JSONRecipientScanner.Shape = round % 2 == 0 ? .array : .member("recipients")
            var bytes = Array((shape == .array ? Self.text(.array(recipients), &random)
                                              : #"{"name":"n","recipients":"# + Self.text(.array(recipients), &random) + "}").utf8)
            for _ in 0..<Int.random(in: 1...4, using: &random) where !bytes.isEmpty {
                let at = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0...2, using: &random) {
                case 0: bytes.remove(at: at)
                case 1: bytes.insert(Array("[]{},:\"\\ x".utf8).randomElement(using: &random)!, at: at)
                default: bytes[at] = UInt8.random(in: 0...255, using: &random)
                }
            }
            do {
                _ = try Self.scan(bytes, shape, &random)
            } catch let error as APIError {
                #expect(error.field != nil && !error.message.isEmpty)
            } catch {
                Issue.record("not an API error: \(error)")
            }
        }
    }

    @Test("what is not a list of recipients is named", arguments: [
        ("[1,]", "recipients[1]"), ("[,1]", "recipients[0]"), ("[1", "body"), ("{}", "body"), ("[] []", "body"), ("", "body"),
        ("[{\"address\":\"a@x.com\"}}]", "recipients[0]"),
    ])
    func refusals(body: String, field: String) {
        var random = SeededGenerator(seed: 1)
        #expect(throws: APIError.self) { _ = try Self.scan(Array(body.utf8), .array, &random) }
        do { _ = try Self.scan(Array(body.utf8), .array, &random) } catch let error as APIError { #expect(error.field == field, "\(body): \(error)") } catch {}
    }

    @Test("one recipient longer than 64 KiB is refused by its place, before more of it is read")
    func longElement() {
        var random = SeededGenerator(seed: 2)
        let body = #"["a@x.com",""# + String(repeating: "x", count: 70_000) + #""]"#
        do {
            _ = try Self.scan(Array(body.utf8), .array, &random)
            Issue.record("accepted")
        } catch let error as APIError {
            #expect(error.field == "recipients[1]")
        } catch {
            Issue.record("\(error)")
        }
    }
}
