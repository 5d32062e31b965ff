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
