#if canImport(Glibc)
import Glibc
#endif

/// Where the host may connect on a tenant's behalf (sends to a provider's or a custom webhook's URL,
/// certificate fetches): `https` only, and never to a loopback, private, link-local (cloud metadata
/// included), carrier-grade NAT, multicast or reserved address, unless the operator allows it in the
/// host config's `[outbound]` table (`allow = ["127.0.0.0/8"]`, `allow_http = true`, as the local
/// development configs do for the sandbox). Addresses are checked after DNS resolution, as each
/// connection is opened, so a name that resolves to a private address is refused too; redirects are
/// never followed.
public struct OutboundPolicy: Sendable, Equatable, Decodable {
    /// Networks the operator allows even though they are not public.
    public var allow: [IPNetwork]
    /// Whether plain `http` URLs may be requested.
    public var allowHTTP: Bool

    public init(allow: [IPNetwork] = [], allowHTTP: Bool = false) {
        self.allow = allow
        self.allowHTTP = allowHTTP
    }

    enum CodingKeys: String, CodingKey {
        case allow
        case allowHTTP = "allow_http"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        allowHTTP = try c.decodeIfPresent(Bool.self, forKey: .allowHTTP) ?? false
        allow = try (c.decodeIfPresent([String].self, forKey: .allow) ?? []).map { text in
            guard let network = IPNetwork(text) else {
                throw DecodingError.dataCorruptedError(forKey: .allow, in: c,
                                                       debugDescription: "\"\(text)\" is not a network such as 127.0.0.0/8 or fd00::/8")
            }
            return network
        }
    }

    /// Why a connection to `address` (4 or 16 bytes) is refused, or nil when it is allowed.
    public func refusal(_ address: [UInt8]) -> String? {
        if allow.contains(where: { $0.contains(address) }) { return nil }
        guard let range = IPNetwork.special.first(where: { $0.network.contains(address) }) else { return nil }
        return "\(IPNetwork.text(address)) is a \(range.kind) address, which the outbound policy refuses ([outbound] allow)"
    }
}

/// An IPv4 or IPv6 network: its address bytes and prefix length.
public struct IPNetwork: Sendable, Equatable, CustomStringConvertible {
    public let bytes: [UInt8]
    public let prefix: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let bytes = Self.parse(String(parts[0])) else { return nil }
        let width = bytes.count * 8
        guard let prefix = parts.count == 2 ? Int(parts[1]) : width, (0...width).contains(prefix) else { return nil }
        self.bytes = bytes
        self.prefix = prefix
    }

    public var description: String { "\(Self.text(bytes))/\(prefix)" }

    /// Whether `address` is in this network; an IPv4-mapped IPv6 address counts as its IPv4 address.
    public func contains(_ address: [UInt8]) -> Bool {
        let address = Self.unmapped(address)
        guard address.count == bytes.count else { return false }
        var left = prefix
        for index in bytes.indices where left > 0 {
            let bits = min(8, left)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            guard address[index] & mask == bytes[index] & mask else { return false }
            left -= bits
        }
        return true
    }

    /// `::ffff:a.b.c.d` and NAT64's `64:ff9b::a.b.c.d` reach an IPv4 address: they are checked as it.
    static func unmapped(_ address: [UInt8]) -> [UInt8] {
        guard address.count == 16 else { return address }
        if address[0..<10].allSatisfy({ $0 == 0 }) && address[10] == 0xFF && address[11] == 0xFF { return Array(address[12...]) }
        if address[0..<12] == [0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0] { return Array(address[12...]) }
        return address
    }

    public static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    static func text(_ bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        _ = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// What is not the public internet (RFC 6890 and its successors).
    static let special: [(network: IPNetwork, kind: String)] = [
        ("0.0.0.0/8", "unspecified"), ("10.0.0.0/8", "private"), ("100.64.0.0/10", "carrier-grade NAT"), ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local (cloud metadata)"), ("172.16.0.0/12", "private"), ("192.0.0.0/24", "reserved"),
        ("192.168.0.0/16", "private"), ("198.18.0.0/15", "benchmarking"), ("224.0.0.0/4", "multicast"), ("240.0.0.0/4", "reserved"),
        ("::/128", "unspecified"), ("::1/128", "loopback"), ("fc00::/7", "private"), ("fe80::/10", "link-local"), ("ff00::/8", "multicast"),
    ].map { (IPNetwork($0.0)!, $0.1) }
}
