/// What the host may fetch for plugins (host.h `fetch`): URL patterns, a timeout, cache lifetimes.
public struct FetchPolicy: Sendable, Equatable, Decodable {
    /// URL patterns; `*` matches any run of characters except `/`. Example:
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

    public func allows(_ url: String) -> Bool {
        allow.contains { Self.matches(pattern: Array($0.utf8)[...], url: Array(url.utf8)[...]) }
    }

    static func matches(pattern: ArraySlice<UInt8>, url: ArraySlice<UInt8>) -> Bool {
        guard let first = pattern.first else { return url.isEmpty }
        if first == UInt8(ascii: "*") {
            var rest = url
            while true {
                if matches(pattern: pattern.dropFirst(), url: rest) { return true }
                guard let next = rest.first, next != UInt8(ascii: "/") else { return false }
                rest = rest.dropFirst()
            }
        }
        guard let head = url.first, head == first else { return false }
        return matches(pattern: pattern.dropFirst(), url: url.dropFirst())
    }
}
