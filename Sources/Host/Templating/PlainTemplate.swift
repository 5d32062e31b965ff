import Domain
import HostCore
/// A template whose every tag is a plain variable (`{{name}}`, `{{{name}}}`,
/// `{{& name}}`), rendered by concatenation: the common case of a campaign,
/// a million times per batch. swift-mustache's general renderer looks every
/// name up through dynamic casts, which cost more than the rest of the
/// expansion together. Anything else (sections, partials, dotted names,
/// comments, delimiters) is left to swift-mustache; a test checks both give
/// the same text. HTML escaping is mustache's: & < > " ' .
public struct PlainTemplate: Sendable {
    enum Segment {
        case text(String)
        case value(String, escaped: Bool)
    }

    let segments: [Segment]
    let names: Set<String>
    /// Bound to its own names, sorted: what `render(_:escapeHTML:)` fills.
    private let own: Bound
    private let ownNames: [String]

    init?(_ source: String) {
        let scanned = TagScanner.scan(source)
        guard scanned.closed else { return nil }
        var segments: [Segment] = []
        var names: Set<String> = []
        for tag in scanned.tags {
            guard case .value(let escaped) = tag.kind else { return nil }
            if !tag.textBefore.isEmpty { segments.append(.text(String(tag.textBefore))) }
            let name = String(tag.content)
            guard !name.isEmpty, name.unicodeScalars.allSatisfy({ Self.nameCharacters.contains($0) }) else { return nil }
            segments.append(.value(name, escaped: escaped))
            names.insert(name)
        }
        if !scanned.tail.isEmpty { segments.append(.text(String(scanned.tail))) }
        self.segments = segments
        self.names = names
        ownNames = names.sorted()
        own = Self.bind(segments, to: Dictionary(uniqueKeysWithValues: ownNames.enumerated().map { ($1, $0) }))
    }

    private static let nameCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-".unicodeScalars)

    /// The text with each name's value; `escapeHTML` as the template's content type says.
    func render(_ values: [String: String], escapeHTML: Bool) -> String {
        own.render(ownNames.map { values[$0] ?? "" }, escapeHTML: escapeHTML)
    }

    /// The template with each name replaced by its index in `slots`; nil unless `slots` holds every name.
    func bound(to slots: [String: Int]) -> Bound? {
        names.allSatisfy { slots[$0] != nil } ? Self.bind(segments, to: slots) : nil
    }

    private static func bind(_ segments: [Segment], to slots: [String: Int]) -> Bound {
        Bound(pieces: segments.map { segment in
            switch segment {
            case .text(let text): .text(text)
            case .value(let name, let escaped): .value(slots[name] ?? 0, escaped: escaped)
            }
        })
    }

    /// A template whose names are indices into an array of values: a recipient's fields are rendered
    /// without hashing a name per tag (a million recipients, several tags each).
    struct Bound: Sendable {
        enum Piece: Sendable {
            case text(String)
            case value(Int, escaped: Bool)
        }

        let pieces: [Piece]
        private let textBytes: Int

        init(pieces: [Piece]) {
            self.pieces = pieces
            textBytes = pieces.reduce(0) { total, piece in if case .text(let text) = piece { total + text.utf8.count } else { total } }
        }

        func render(_ values: [String], escapeHTML: Bool) -> String {
            var output = ""
            output.reserveCapacity(textBytes + pieces.reduce(0) { total, piece in
                if case .value(let slot, _) = piece { total + values[slot].utf8.count } else { total }
            })
            for piece in pieces {
                switch piece {
                case .text(let text): output += text
                case .value(let slot, let escaped):
                    if escaped && escapeHTML { PlainTemplate.appendEscaped(values[slot], to: &output) } else { output += values[slot] }
                }
            }
            return output
        }
    }

    /// `value` with HTML's five special characters escaped, as `{{name}}` renders it in html.
    public static func escapedHTML(_ value: String) -> String {
        var output = ""
        appendEscaped(value, to: &output)
        return output
    }

    static func appendEscaped(_ value: String, to output: inout String) {
        guard value.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 }) else {
            output += value
            return
        }
        for character in value {
            switch character {
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "&": output += "&amp;"
            case "\"": output += "&quot;"
            case "'": output += "&#39;"
            default: output.append(character)
            }
        }
    }
}
