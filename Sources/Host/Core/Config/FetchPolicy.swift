/// What the host may fetch for plugins (host.h `fetch`): URL patterns, a timeout, cache lifetimes.
public struct FetchPolicy: Sendable, Equatable, Decodable {
    /// URL patterns; `*` matches any run of characters except `/`; in the host part it also stops at `?`, `#`,
    /// `@`, `:` and `\\`, so a star in a host name cannot reach into user info, a port, a query or a fragment. Example:
    /// "https://sns.*.amazonaws.com/*". Empty: nothing may be fetched.
    public var allow: [String]
    public var timeoutMs: Int
    public var cacheSeconds: Int
    /// How long a failed fetch is remembered before it is tried again.
    public var failureCacheSeconds: Int

    public init(allow: [String] = [], timeoutMs: Int = 5000, cacheSeconds: Int = 3600, failureCacheSeconds: Int = 30) {
        self.allow = allow
        self.timeoutMs = timeoutMs
        self.cacheSeconds = cacheSeconds
        self.failureCacheSeconds = failureCacheSeconds
    }

    enum CodingKeys: String, CodingKey {
        case allow
        case timeoutMs = "timeout_ms"
        case cacheSeconds = "cache_seconds"
        case failureCacheSeconds = "failure_cache_seconds"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = FetchPolicy()
        allow = try c.decodeIfPresent([String].self, forKey: .allow) ?? []
        timeoutMs = try c.decodeIfPresent(Int.self, forKey: .timeoutMs) ?? defaults.timeoutMs
        cacheSeconds = try c.decodeIfPresent(Int.self, forKey: .cacheSeconds) ?? defaults.cacheSeconds
        failureCacheSeconds = try c.decodeIfPresent(Int.self, forKey: .failureCacheSeconds) ?? defaults.failureCacheSeconds
    }

    /// A URL with user info, a fragment or a backslash is never fetched, whatever the patterns: each is a way
    /// to make a URL read as one host to a pattern and as another to the HTTP client.
    public func allows(_ url: String) -> Bool {
        guard !url.utf8.contains(where: { Self.neverFetched.contains($0) }) else { return false }
        let bytes = Array(url.utf8)
        // Where the authority ends: the first "/" after "://" (or the end).
        var authorityEnd = bytes.endIndex
        if let scheme = url.range(of: "://") {
            let start = url.utf8.distance(from: url.utf8.startIndex, to: scheme.upperBound)
            authorityEnd = bytes[start...].firstIndex(of: UInt8(ascii: "/")) ?? bytes.endIndex
        }
        return allow.contains { Self.matches(pattern: Array($0.utf8)[...], url: bytes[...], authorityEnd: authorityEnd) }
    }

    static let neverFetched: Set<UInt8> = [UInt8(ascii: "@"), UInt8(ascii: "#"), UInt8(ascii: "\\")]
    /// What a `*` in the host part never stands for.
    static let authorityStops: Set<UInt8> = [UInt8(ascii: "/"), UInt8(ascii: "?"), UInt8(ascii: "#"), UInt8(ascii: "@"), UInt8(ascii: ":"),
                                             UInt8(ascii: "\\")]

    static func matches(pattern: ArraySlice<UInt8>, url: ArraySlice<UInt8>, authorityEnd: Int) -> Bool {
        guard let first = pattern.first else { return url.isEmpty }
        if first == UInt8(ascii: "*") {
            var rest = url
            while true {
                if matches(pattern: pattern.dropFirst(), url: rest, authorityEnd: authorityEnd) { return true }
                guard let next = rest.first else { return false }
                if next == UInt8(ascii: "/") || (rest.startIndex < authorityEnd && authorityStops.contains(next)) { return false }
                rest = rest.dropFirst()
            }
        }
        guard let head = url.first, head == first else { return false }
        return matches(pattern: pattern.dropFirst(), url: url.dropFirst(), authorityEnd: authorityEnd)
    }
}
