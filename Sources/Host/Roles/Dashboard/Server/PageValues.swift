import Foundation
import ProviderModel

/// Reading the API's JSON for templates: numbers as whole numbers, anything as display text.
extension JSONValue {
    /// A count as a whole number. Counts the API writes are JSON integers, exact within ±2⁵³; a larger one
    /// (or an infinity) shows as that bound rather than trapping in `Int(value)` past 2⁶³, and pages can add
    /// a few counts without overflow. Anything that is no number is 0.
    var count: Int {
        guard case .number(let value) = self, !value.isNaN else { return 0 }
        let held = Swift.min(Swift.max(value.rounded(.towardZero), -Self.countBound), Self.countBound)
        return BoundedInteger.exactly(held, in: -(1 << 53)...(1 << 53)).map(Int.init) ?? 0
    }
    private static let countBound = Double(1 << 53)
    var number: Double? {
        if case .number(let value) = self { return value }
        return nil
    }
    /// What a cell shows: strings as they are, numbers without a needless fraction, nothing for null.
    var display: String {
        switch self {
        case .string(let text): text
        case .number(let value): value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case .bool(let value): value ? "yes" : "no"
        case .null: ""
        default: compactText
        }
    }
}

enum PageValues {
    /// A percentage for a bar: 0–100, one decimal.
    static func percent(_ part: Int, of whole: Int) -> String {
        guard whole > 0 else { return "0" }
        return String(format: "%.1f", min(100, Double(part) * 100 / Double(whole)))
    }

    /// A size as people read it: "812 B", "14.2 KB", "1.5 MB" (powers of 1,024).
    static func bytes(_ count: Int) -> String {
        if count < 1_024 { return "\(count) B" }
        let kib = Double(count) / 1_024
        if kib < 1_024 { return "\((kib * 10).rounded() / 10) KB" }
        return "\((kib / 1_024 * 10).rounded() / 10) MB"
    }

    /// A rate (0–1, or null) as a percentage, "—" without a denominator.
    static func rate(_ value: JSONValue?) -> String {
        guard let number = value?.number else { return "—" }
        return String(format: "%.1f%%", number * 100)
    }

    /// Query-string escaping for values put into links.
    static func query(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? ""
    }

    /// A UUID as the API writes ids, or nil: path pieces the pages pass on are never anything else.
    static func id(_ text: String?) -> String? {
        guard let text, let uuid = UUID(uuidString: text) else { return nil }
        return uuid.uuidString.lowercased()
    }
}

extension Dictionary where Key == String, Value == Any {
    /// Sets `key` only to a non-empty string: a Mustache section shows for any string, "" included, so an
    /// optional part of a page is left out rather than set empty.
    mutating func setShown(_ key: String, _ value: String?) {
        if let value, !value.isEmpty { self[key] = value }
    }
}
