import Foundation

/// The host config's `[unsubscribe]` table: one-click unsubscribe links (RFC 8058) in every bulk email.
/// `base_url` is where recipients' mail clients reach the API's `/unsubscribe/{token}`: in production a
/// public https URL (RFC 8058 requires https; mailbox providers ignore other links).
public struct UnsubscribeSettings: Sendable, Equatable, Decodable {
    public var enabled = true
    public var baseURL = "http://127.0.0.1:6001"
    /// An address the `List-Unsubscribe` header offers beside the link (`mailto:`); none by default.
    public var mailto: String?

    public init() {}

    enum CodingKeys: String, CodingKey { case enabled, baseURL = "base_url", mailto }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? enabled
        baseURL = try c.decodeIfPresent(String.self, forKey: .baseURL) ?? baseURL
        guard let url = URL(string: baseURL), ["http", "https"].contains(url.scheme ?? ""), url.host?.isEmpty == false,
              url.query == nil, url.fragment == nil, !baseURL.contains(where: { $0 == ">" || $0 == "," || $0.isWhitespace }) else {
            throw DecodingError.dataCorruptedError(forKey: .baseURL, in: c, debugDescription: "must be an http:// or https:// URL without query or fragment")
        }
        mailto = try c.decodeIfPresent(String.self, forKey: .mailto)
        if let mailto {
            let parts = mailto.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, mailto.utf8.count <= 254,
                  mailto.allSatisfy({ $0.isASCII && !$0.isWhitespace && !"<>,?&\"".contains($0) }) else {
                throw DecodingError.dataCorruptedError(forKey: .mailto, in: c, debugDescription: "must be a plain email address")
            }
        }
    }
}
