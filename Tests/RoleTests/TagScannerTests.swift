@testable import Templating
import Testing

/// The one tag scanner, as both its readers see it: the names a template reads, and plain templates.
struct TagScannerTests {
    @Test("values, unescaped values and other tags are told apart; names are trimmed; an unclosed tag stops the scan")
    func kinds() {
        let scanned = TagScanner.scan("Hi {{ name }}, {{{html}}} {{& raw}}{{#items}}x{{/items}}{{! note}} end")
        #expect(scanned.closed && scanned.tail == " end")
        #expect(scanned.tags.map(\.content) == ["name", "html", "raw", "items", "items", "note"])
        #expect(scanned.tags.map(\.kind) == [.value(escaped: true), .value(escaped: false), .value(escaped: false), .other, .other, .other])
        #expect(scanned.tags.map(\.textBefore) == ["Hi ", ", ", " ", "", "x", ""])
        let open = TagScanner.scan("a {{b}} c {{d")
        #expect(!open.closed && open.tags.map(\.content) == ["b"])
    }

    @Test("a template reads the first part of dotted names and no section names; a plain template is only plain tags")
    func readers() {
        #expect(BatchTemplate.variables(in: "{{a.b}} {{{c}}} {{&d}} {{#e}}{{f}}{{/e}} {{!g}}") == ["a", "c", "d", "f"])
        #expect(PlainTemplate("Hello {{name}} & {{{code}}}")?.names == ["name", "code"])
        #expect(PlainTemplate("{{& code}}")?.render(["code": "<b>"], escapeHTML: true) == "<b>")
        #expect(PlainTemplate("{{name}}")?.render(["name": "<b>"], escapeHTML: true) == "&lt;b&gt;")
        #expect(PlainTemplate("{{#list}}x{{/list}}") == nil)
        #expect(PlainTemplate("{{a.b}}") == nil)
        #expect(PlainTemplate("{{open") == nil)
    }
}
