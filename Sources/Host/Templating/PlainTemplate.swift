import Domain
import HostCore
/// A template whose every tag is a plain variable (`{{name}}`, `{{{name}}}`,
/// `{{& name}}`), rendered by concatenation: the common case of a campaign,
/// a million times per batch. swift-mustache's general renderer looks every
/// name up through dynamic casts, which cost more than the rest of the
/// expansion together. Anything else (sections, partials, dotted names,
/// comments, delimiters) is left to swift-mustache; a test checks both give
/// the same text. HTML escaping is mustache's: & < > " ' .
struct PlainTemplate {
    enum Segment {
        case text(String)
        case value(String, escaped: Bool)
    }

    let segments: [Segment]
    let names: Set<String>

    init?(_ source: String) {
        var segments: [Segment] = []
        var names: Set<String> = []
        var rest = Substring(source)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { segments.append(.text(String(rest[..<open.lowerBound]))) }
            rest = rest[open.upperBound...]
            let triple = rest.hasPrefix("{")
            let closing = triple ? "}}}" : "}}"
            if triple { rest = rest.dropFirst() }
            guard let close = rest.range(of: closing) else { return nil }
            var tag = rest[..<close.lowerBound]
            rest = rest[close.upperBound...]
            var escaped = !triple
            if !triple, tag.hasPrefix("&") { tag = tag.dropFirst(); escaped = false }
            let name = tag.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed()
            let text = String(name)
            guard !text.isEmpty, text.unicodeScalars.allSatisfy({ Self.nameCharacters.contains($0) }) else { return nil }
            segments.append(.value(text, escaped: escaped))
            names.insert(text)
        }
        if !rest.isEmpty { segments.append(.text(String(rest))) }
        self.segments = segments
        self.names = names
    }

    private static let nameCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-".unicodeScalars)

    /// The text with each name's value; `escapeHTML` as the template's content type says.
    func render(_ values: [String: String], escapeHTML: Bool) -> String {
        var output = ""
        for segment in segments {
            switch segment {
            case .text(let text): output += text
            case .value(let name, let escaped):
                let value = values[name] ?? ""
                if escaped && escapeHTML { Self.appendEscaped(value, to: &output) } else { output += value }
            }
        }
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
