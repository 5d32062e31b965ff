import Foundation
import HostCore
import ProviderModel
import Services
import Testing
@testable import SenderAPI

/// Properties of the parsers every request goes through, over generated input: what is written is read
/// back exactly, however it is cut; what is mangled is refused with a field, never a trap.
@Suite("Parser properties")
struct ParserPropertyTests {
    static let hostile: [String] = ["a", "Z", "0", ",", "\"", "\n", "\r\n", " ", "é", "😀", "\\", "{", "}", "\t", ";", "@", "+"]

    static func text(_ random: inout SeededGenerator, upTo: Int = 10) -> String {
        (0..<Int.random(in: 0...upTo, using: &random)).map { _ in hostile.randomElement(using: &random)! }.joined()
    }

    /// RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.
    static func csvField(_ value: String) -> String {
        // By scalar: "\r\n" is one Character, so a lone "\n" would not match it.
        value.unicodeScalars.contains(where: { ",\"\r\n".unicodeScalars.contains($0) }) || value.hasPrefix(" ") ? "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : value
    }

    @Test("CSV: generated rows with quotes, commas and line breaks in any field come back exactly, cut anywhere")
    func csvRoundTrip() throws {
        var random = SeededGenerator(seed: 0xC5F)
        for _ in 0..<300 {
            let columns = ["email"] + (0..<Int.random(in: 0...3, using: &random)).map { "v\($0)" }
            let rows: [[String]] = (0..<Int.random(in: 1...20, using: &random)).map { index in
                ["user\(index)@example.com"] + columns.dropFirst().map { _ in Self.text(&random).trimmingCharacters(in: .whitespaces) }
            }
            let newline = Bool.random(using: &random) ? "\r\n" : "\n"
            let csv = ([columns] + rows).map { $0.map(Self.csvField).joined(separator: ",") }.joined(separator: newline) + newline
            let bytes = Array(csv.utf8)
            var parser = CSVRecipientParser()
            var parsed: [RecipientRow] = []
            var start = 0
            do {
                while start < bytes.count {
                    let end = min(bytes.count, start + Int.random(in: 1...40, using: &random))
                    try bytes[start..<end].withUnsafeBytes { raw in try parser.consume(raw) { parsed.append($0) } }
                    start = end
                }
                try parser.finish { parsed.append($0) }
            } catch {
                Issue.record("\(error) in \(csv.debugDescription)")
                return
            }
            #expect(parsed.map(\.address) == rows.map { $0[0] })
            for (row, expected) in zip(parsed, rows) {
                let variables = JSONValue.parse(Array(row.variablesJSON.utf8))
                let wanted = JSONValue.object(Dictionary(uniqueKeysWithValues: zip(columns.dropFirst(), expected.dropFirst()).map { ($0, JSONValue.string($1)) }))
                #expect(variables == wanted, "\(csv.debugDescription)")
            }
        }
    }

    @Test("CSV: mangled bytes are refused with a line, never a trap")
    func csvMutations() {
        var random = SeededGenerator(seed: 0xBAD)
        for _ in 0..<3_000 {
            var bytes = Array("email,name\na@x.com,\"A, \"\"B\"\"\"\nb@x.com,C\n".utf8)
            for _ in 0..<Int.random(in: 1...5, using: &random) {
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            var parser = CSVRecipientParser()
            do {
                try bytes.withUnsafeBytes { raw in try parser.consume(raw) { _ in } }
                try parser.finish { _ in }
            } catch let error as APIError {
                #expect(error.field != nil && !error.message.isEmpty)
            } catch {
                Issue.record("not an API error: \(error)")
            }
        }
    }

    @Test("ISO 8601: every instant 1970–9999 written with any offset and precision reads back as itself; garbage never traps")
    func dates() {
        var random = SeededGenerator(seed: 0xDA7E)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for _ in 0..<5_000 {
            let milliseconds = Int64.random(in: 0...253_402_300_799_999, using: &random)
            let offsetMinutes = Int.random(in: -23 * 60...23 * 60, using: &random)
            let local = Date(timeIntervalSince1970: Double(milliseconds / 1_000 + Int64(offsetMinutes) * 60))
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: local)
            guard (1...9999).contains(parts.year!) else { continue }
            let sign = offsetMinutes < 0 ? "-" : "+"
            let zone = offsetMinutes == 0 && Bool.random(using: &random) ? "Z"
                : String(format: "%@%02d:%02d", sign, abs(offsetMinutes) / 60, abs(offsetMinutes) % 60)
            let text = String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03d", parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!,
                              parts.second!, Int(milliseconds % 1_000)) + zone
            #expect(ISO8601.milliseconds(text) == milliseconds, "\(text)")
        }
        let alphabet = Array("0123456789-:T.Z+ z".utf8)
        for _ in 0..<20_000 {
            let garbage = (0..<Int.random(in: 0...32, using: &random)).map { _ in alphabet.randomElement(using: &random)! }
            _ = ISO8601.milliseconds(String(decoding: garbage, as: UTF8.self))
        }
    }

    @Test("addresses: whatever the text, normalising never traps, and a normalised address normalises to itself")
    func addresses() {
        var random = SeededGenerator(seed: 0xADD)
        for _ in 0..<20_000 {
            let raw = Self.text(&random, upTo: 24)
            for channel in Channel.allCases {
                if case .success(let normal) = RecipientAddress.normalize(raw, channel: channel) {
                    #expect((try? RecipientAddress.normalize(normal, channel: channel).get()) == normal, "\(raw.debugDescription) on \(channel)")
                }
            }
        }
        #expect((try? RecipientAddress.normalize(" Ann@Example.COM ", channel: .email).get()) == "ann@example.com")
        #expect((try? RecipientAddress.normalize("+15550001111", channel: .sms).get()) == "+15550001111")
    }
}
