import ProviderModel
import Testing

@Suite("JSONWriter")
struct JSONWriterTests {
    @Test("nested objects and arrays with commas in the right places, and every control character escaped")
    func shapes() throws {
        let awkward = "quote \" backslash \\ newline \n tab \t nul \u{0} unit \u{1f} ✓ 🚀"
        var json = JSONWriter()
        json.beginObject()
        json.member("a", awkward)
        json.member("list", strings: ["x", "y"])
        json.key("empty")
        json.beginObject()
        json.endObject()
        json.key("nested")
        json.beginArray()
        json.beginObject()
        json.member("k", "v")
        json.key("flag")
        json.bool(true)
        json.endObject()
        json.raw(#"{"pre":1}"#)
        json.endArray()
        json.endObject()
        let text = String(decoding: json.bytes, as: UTF8.self)
        #expect(text.hasPrefix(#"{"a":"quote \" backslash \\ newline \n tab \t nul \u0000 unit \u001f"#))
        let parsed = try #require(JSONValue.parse(json.bytes), "not JSON: \(text)")
        #expect(parsed["a"]?.stringValue == awkward)
        #expect(parsed["list"] == .array([.string("x"), .string("y")]))
        #expect(parsed["empty"] == .object([:]))
        #expect(parsed["nested"] == .array([.object(["k": .string("v"), "flag": .bool(true)]), .object(["pre": .number(1)])]))
    }
}
