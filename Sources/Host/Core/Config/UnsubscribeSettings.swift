import Foundation

/// The host config's `[unsubscribe]` table: one-click unsubscribe links (RFC 8058) in every bulk email.
/// `base_url` is where recipients' mail clients reach the API's `/unsubscribe/{token}`: a public https URL
/// (RFC 8058 requires https, and mailbox providers ignore other links); plain http only on a loopback host,
/// for local runs. A config file without it sends no links (the sender warns at start): a link nobody can
/// reach would promise an unsubscribe that never happens. `serve` without a config file is a local run, and
/// points the links at its own API.
public struct UnsubscribeSettings: Sendable, Equatable, Decodable {
    public var enabled = true
    public var baseURL: String?
    /// An address the `List-Unsubscribe` header offers beside the link (`mailto:`); none by default.
    public var mailto: String?

    /// Short enough that a link for the longest address (320 bytes) stays within SES's 870-byte header values.
    public static let maxBaseURLBytes = 256

    public init(enabled: Bool = true, baseURL: String? = nil, mailto: String? = nil) {
        self.enabled = enabled
        self.baseURL = baseURL
        self.mailto = mailto
    }

    /// Whether links go out, and where: nil when turned off or not configured.
    public var activeBaseURL: String? { enabled ? baseURL : nil }

    enum CodingKeys: String, CodingKey { case enabled, baseURL = "base_url", mailto }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? enabled
        if let given = try c.decodeIfPresent(String.self, forKey: .baseURL) {
            if let problem = Self.problem(withBaseURL: given) { throw DecodingError.dataCorruptedError(forKey: .baseURL, in: c, debugDescription: problem) }
            baseURL = given
        }
        mailto = try c.decodeIfPresent(String.self, forKey: .mailto)
        if let mailto, let problem = Self.problem(withMailto: mailto) {
            throw DecodingError.dataCorruptedError(forKey: .mailto, in: c, debugDescription: problem)
        }
    }

    /// Why `text` cannot be the links' base, or nil. It goes into every message's header as it is written.
    public static func problem(withBaseURL text: String) -> String? {
        guard text.utf8.count <= maxBaseURLBytes else { return "must be at most \(maxBaseURLBytes) bytes" }
        guard text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && !"<>\"\\{}|^`,".unicodeScalars.contains($0) }) else {
            return "must be printable ASCII without spaces, quotes, <, >, commas or \\{}|^`"
        }
        guard let url = URL(string: text), let scheme = url.scheme, let host = url.host, !host.isEmpty else { return "must be an absolute http(s) URL" }
        guard url.user == nil, url.password == nil else { return "must not carry a user or password" }
        guard url.query == nil, url.fragment == nil else { return "must not carry a query or fragment" }
        switch scheme {
        case "https": return nil
        case "http": return ["127.0.0.1", "localhost", "::1"].contains(host) ? nil : "must be https (mailbox providers follow only https unsubscribe links); http only on a loopback host"
        default: return "must be an https URL"
        }
    }

    static func problem(withMailto text: String) -> String? {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, text.utf8.count <= 254,
              text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && !"<>,?&\"\\".unicodeScalars.contains($0) }) else {
            return "must be a plain email address"
        }
        return nil
    }
}
