/// The one reading of a template's `{{…}}` tags, for everything that looks at tags without rendering: the
/// names a template reads (checked against each recipient) and the plain templates rendered by
/// concatenation. Rendering anything else is swift-mustache's.
enum TagScanner {
    struct Tag {
        enum Kind: Equatable {
            /// `{{name}}` (escaped), `{{{name}}}` or `{{& name}}` (not escaped).
            case value(escaped: Bool)
            /// A section, inverted section, end, comment, partial, delimiter change or pragma: `#^/!>=%$<`.
            case other
        }

        /// The template's text since the previous tag.
        var textBefore: Substring
        /// The tag's content without its sigil and without surrounding spaces and tabs.
        var content: Substring
        var kind: Kind
    }

    /// The tags in order, the text after the last one, and whether every tag was closed (scanning stops at
    /// the first that is not).
    static func scan(_ source: String) -> (tags: [Tag], tail: Substring, closed: Bool) {
        var tags: [Tag] = []
        var rest = Substring(source)
        while let open = rest.range(of: "{{") {
            let before = rest[..<open.lowerBound]
            rest = rest[open.upperBound...]
            let triple = rest.hasPrefix("{")
            if triple { rest = rest.dropFirst() }
            guard let close = rest.range(of: triple ? "}}}" : "}}") else { return (tags, rest, false) }
            var content = rest[..<close.lowerBound]
            rest = rest[close.upperBound...]
            var kind = Tag.Kind.value(escaped: !triple)
            if !triple, let first = content.first {
                if first == "&" { content = content.dropFirst(); kind = .value(escaped: false) }
                else if "#/^!>=%$<".contains(first) { content = content.dropFirst(); kind = .other }
            }
            tags.append(Tag(textBefore: before, content: trimmed(content), kind: kind))
        }
        return (tags, rest, true)
    }

    private static func trimmed(_ text: Substring) -> Substring {
        var text = text
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}
