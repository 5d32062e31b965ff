import Foundation
import ProviderModel

/// What a request body carries, however the plugin encoded it: raw UTF-8, a
/// string value of a JSON document, or a form-encoded (percent-escaped) field.
enum BodyContent {
    /// Whether `text` is in `body` as raw UTF-8, inside a string value of a JSON body, or percent-encoded.
    static func carries(_ text: String, in body: [UInt8]) -> Bool {
        if body.firstRange(of: Array(text.utf8)) != nil { return true }
        if let document = JSONValue.parse(body), search(document, for: text) { return true }
        let form = String(decoding: body, as: UTF8.self).replacingOccurrences(of: "+", with: " ")
        return form.removingPercentEncoding?.contains(text) ?? false
    }

    private static func search(_ value: JSONValue, for text: String) -> Bool {
        switch value {
        case .string(let string): string.contains(text) || (JSONValue.parse(Array(string.utf8)).map { search($0, for: text) } ?? false)
        case .array(let values): values.contains { search($0, for: text) }
        case .object(let object): object.values.contains { search($0, for: text) }
        default: false
        }
    }

    /// Whether the request says its body is JSON.
    static func isJSON(_ request: PreparedRequest) -> Bool {
        guard let type = request.headers.first(named: "content-type")?.lowercased() else { return false }
        return type.hasPrefix("application/json") || type.contains("+json")
    }
}
