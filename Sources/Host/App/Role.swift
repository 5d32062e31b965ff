import Foundation

/// The roles one `serve` process can run; together (the default) or apart in several processes against the
/// same servers (the discoverer and background roles elect a leader among their processes).
public enum Role: String, CaseIterable, Sendable {
    case api, discoverer, processor, sender, background, receiver
    case webhookProcessor = "webhook-processor"
    case web

    /// Roles from a comma-separated list, in order, each once.
    public static func parse(_ list: String) throws(RoleListError) -> [Role] {
        var chosen: [Role] = []
        for name in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let role = Role(rawValue: name) else { throw RoleListError("unknown role \"\(name)\"; the roles are \(names)") }
            if !chosen.contains(role) { chosen.append(role) }
        }
        guard !chosen.isEmpty else { throw RoleListError("name at least one role") }
        return chosen
    }

    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

public struct RoleListError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
