import Foundation
import ProviderModel

/// Reads a JSON request object field by field, refusing unknown members and
/// naming the exact path (`payload.subject`, `recipients[3].address`) of any
/// member that is missing or of the wrong type.
package struct JSONFields {
    package let object: [String: JSONValue]
    package let path: String

    /// Parses `bytes` as one JSON object; `allowed` are the member names it may have.
    package init(parsing bytes: [UInt8], allowed: Set<String>) throws(APIError) {
        try self.init(try Self.document(bytes), path: "", allowed: allowed)
    }

    /// A request body as JSON the API can store: a member named twice is a 400 (which one was meant?), and a
    /// string holding NUL (which PostgreSQL cannot store) is a 422 naming its path.
    package static func document(_ bytes: [UInt8], path: String = "") throws(APIError) -> JSONValue {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes, uniqueMembers: true) } catch {
            throw APIError.badRequest("\(path.isEmpty ? "the body" : path) is not valid JSON: \(error.description)", field: path.isEmpty ? "body" : path)
        }
        if let at = nulPath(value, path) {
            throw APIError.invalid(at.isEmpty ? "body" : at, "must not contain the NUL character (\\u0000)")
        }
        return value
    }

    private static func nulPath(_ value: JSONValue, _ path: String) -> String? {
        switch value {
        case .string(let text): return text.utf8.contains(0) ? path : nil
        case .array(let items):
            for (index, item) in items.enumerated() { if let found = nulPath(item, "\(path)[\(index)]") { return found } }
            return nil
        case .object(let members):
            for key in members.keys.sorted() {
                let child = join(path, key)
                if key.utf8.contains(0) { return child }
                if let found = nulPath(members[key]!, child) { return found }
            }
            return nil
        case .null, .bool, .number: return nil
        }
    }

    package init(_ value: JSONValue, path: String, allowed: Set<String>) throws(APIError) {
        guard case .object(let object) = value else {
            throw APIError.invalid(path.isEmpty ? "body" : path, "must be a JSON object")
        }
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw APIError.invalid(Self.join(path, unknown), "unknown member; allowed: \(allowed.sorted().joined(separator: ", "))")
        }
        self.object = object
        self.path = path
    }

    package func field(_ name: String) -> String { Self.join(path, name) }

    package static func join(_ path: String, _ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    package func has(_ name: String) -> Bool {
        if let value = object[name], value != .null { true } else { false }
    }

    package func string(_ name: String, maxLength: Int = 1_000) throws(APIError) -> String? {
        guard let value = object[name], value != .null else { return nil }
        guard case .string(let text) = value else { throw APIError.invalid(field(name), "must be a string") }
        guard text.utf8.count <= maxLength else { throw APIError.invalid(field(name), "must be at most \(maxLength) bytes") }
        return text
    }

    package func requiredString(_ name: String, maxLength: Int = 1_000) throws(APIError) -> String {
        guard let text = try string(name, maxLength: maxLength) else { throw APIError.invalid(field(name), "is required") }
        guard !text.isEmpty else { throw APIError.invalid(field(name), "must not be empty") }
        return text
    }

    package func integer(_ name: String, range: ClosedRange<Int>) throws(APIError) -> Int? {
        guard let value = object[name], value != .null else { return nil }
        // 1e30, -9223372036854775809 and 0.5 arrive as doubles; converted without the trap of Int(double).
        guard case .number(let number) = value, let integer = BoundedInteger.exactly(number, in: Int64(range.lowerBound)...Int64(range.upperBound)) else {
            throw APIError.invalid(field(name), "must be an integer between \(range.lowerBound) and \(range.upperBound)")
        }
        return Int(integer)
    }

    package func bool(_ name: String) throws(APIError) -> Bool? {
        guard let value = object[name], value != .null else { return nil }
        guard case .bool(let flag) = value else { throw APIError.invalid(field(name), "must be true or false") }
        return flag
    }

    package func objectValue(_ name: String) throws(APIError) -> [String: JSONValue]? {
        guard let value = object[name], value != .null else { return nil }
        guard case .object(let members) = value else { throw APIError.invalid(field(name), "must be a JSON object") }
        return members
    }

    /// An object whose every value is a string (headers, tags, variables).
    package func stringMap(_ name: String) throws(APIError) -> [String: String]? {
        guard let members = try objectValue(name) else { return nil }
        var map: [String: String] = [:]
        for (key, value) in members {
            guard case .string(let text) = value else { throw APIError.invalid(field(name) + "." + key, "must be a string") }
            map[key] = text
        }
        return map
    }

    /// A list of distinct object ids (UUIDs, returned in lower case): nil when absent or null. `what` names the
    /// objects in errors ("your attachments"); `tooMany` says why more than `maxCount` are refused.
    package func ids(_ name: String, maxCount: Int, what: String, tooMany: (Int) -> String) throws(APIError) -> [String]? {
        guard let value = object[name], value != .null else { return nil }
        guard case .array(let items) = value else { throw APIError.invalid(field(name), "must be an array of ids of \(what)") }
        guard items.count <= maxCount else { throw APIError.invalid(field(name), tooMany(items.count)) }
        var ids: [String] = []
        for (index, item) in items.enumerated() {
            let path = "\(field(name))[\(index)]"
            guard case .string(let text) = item, let id = UUID(uuidString: text)?.uuidString.lowercased() else {
                throw APIError.invalid(path, "must be the id of one of \(what)")
            }
            guard !ids.contains(id) else { throw APIError.invalid(path, "names \(id) a second time") }
            ids.append(id)
        }
        return ids
    }

    package func nested(_ name: String, allowed: Set<String>) throws(APIError) -> JSONFields? {
        guard let value = object[name], value != .null else { return nil }
        return try JSONFields(value, path: field(name), allowed: allowed)
    }
}
