import Foundation

/// A plugin instance's configuration, checked against the plugin's declared keys:
/// every required key present, no unknown key, every value of its declared type.
/// The host checks send-configs with the same code before a plugin sees them.
public struct PluginConfiguration: Sendable, Equatable {
    public let values: [String: String]

    /// Checks `entries` (text values; lists and maps as JSON text) against `keys`,
    /// applying defaults. Errors name the key: `config.<name>`.
    public init(validating entries: [KeyValue], against keys: [ConfigKey]) throws(PluginFailure) {
        var values: [String: String] = [:]
        let declared = Dictionary(keys.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for entry in entries {
            guard let key = declared[entry.name] else {
                let known = keys.map(\.name).joined(separator: ", ")
                throw PluginFailure(.config, field: "config.\(entry.name)", "unknown key; this plugin accepts: \(known)")
            }
            guard values[entry.name] == nil else {
                throw PluginFailure(.config, field: "config.\(entry.name)", "given twice")
            }
            try Self.check(entry.value, as: key)
            values[entry.name] = entry.value
        }
        for key in keys where values[key.name] == nil {
            if let fallback = key.defaultValue { values[key.name] = fallback }
            else if key.required {
                throw PluginFailure(.config, field: "config.\(key.name)", "required key is missing (\(key.description))")
            }
        }
        self.values = values
    }

    /// A configuration taken as it is, for tests and direct in-process use.
    public init(unchecked values: [String: String]) {
        self.values = values
    }

    static func check(_ value: String, as key: ConfigKey) throws(PluginFailure) {
        let field = "config.\(key.name)"
        switch key.type {
        case .string:
            if key.required && value.isEmpty { throw PluginFailure(.config, field: field, "must not be empty") }
        case .url:
            guard let url = URL(string: value), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
                  let host = url.host, !host.isEmpty else {
                throw PluginFailure(.config, field: field, "must be an absolute http(s) URL, got \"\(value.prefix(100))\"")
            }
        case .bool:
            guard value == "true" || value == "false" else {
                throw PluginFailure(.config, field: field, "must be true or false")
            }
        case .stringList:
            guard case .array(let items)? = JSONValue.parse(Array(value.utf8)),
                  items.allSatisfy({ if case .string = $0 { true } else { false } }) else {
                throw PluginFailure(.config, field: field, "must be a list of strings")
            }
        case .stringMap:
            guard case .object(let items)? = JSONValue.parse(Array(value.utf8)),
                  items.values.allSatisfy({ if case .string = $0 { true } else { false } }) else {
                throw PluginFailure(.config, field: field, "must be an object whose values are strings")
            }
        }
    }

    public subscript(_ key: String) -> String? { values[key] }

    /// The value of a key the plugin declared as required (or with a default).
    public func string(_ key: String) throws(PluginFailure) -> String {
        guard let value = values[key] else { throw PluginFailure(.config, field: "config.\(key)", "required key is missing") }
        return value
    }

    public func bool(_ key: String) -> Bool { values[key] == "true" }

    public func stringList(_ key: String) -> [String] {
        guard let text = values[key], case .array(let items)? = JSONValue.parse(Array(text.utf8)) else { return [] }
        return items.compactMap { if case .string(let s) = $0 { s } else { nil } }
    }

    public func stringMap(_ key: String) -> [KeyValue] {
        guard let text = values[key], case .object(let items)? = JSONValue.parse(Array(text.utf8)) else { return [] }
        return items.compactMap { key, value in if case .string(let s) = value { KeyValue(key, s) } else { nil } }
            .sorted { $0.name < $1.name }
    }
}

extension PluginConfiguration {
    /// Turns a JSON config object (CONFIG.json, a send-config's credentials) into
    /// text entries: strings and booleans as text, lists and maps as JSON text.
    public static func entries(fromJSON object: [String: JSONValue]) throws(PluginFailure) -> [KeyValue] {
        var entries: [KeyValue] = []
        for (key, value) in object.sorted(by: { $0.key < $1.key }) {
            switch value {
            case .string(let text): entries.append(KeyValue(key, text))
            case .bool(let flag): entries.append(KeyValue(key, flag ? "true" : "false"))
            case .array, .object: entries.append(KeyValue(key, value.compactText))
            case .null: continue
            case .number:
                throw PluginFailure(.config, field: "config.\(key)", "numbers are not accepted; give the value as a string")
            }
        }
        return entries
    }
}
