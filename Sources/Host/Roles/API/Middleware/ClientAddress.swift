import HTTPTypes
import HostCore
import Logging
import Synchronization

/// Who sent a request, as every per-client limit counts it (the API's per-address rate limit and the
/// dashboard's sign-in limits): the peer's address, or behind proxies listed in `[api] trusted_proxies`
/// the nearest address in `X-Forwarded-For` that is not one of them.
package struct ClientAddress: Sendable {
    /// Proxies whose `X-Forwarded-For` names the client and whose `X-Forwarded-Proto` is believed.
    package let trustedProxies: [IPNetwork]
    private let logger: Logger?
    private let warned = WarnedOnce()

    /// `logger` hears, once per process, of a trusted proxy that names no client.
    package init(trustedProxies: [IPNetwork], logger: Logger? = nil) {
        self.trustedProxies = trustedProxies
        self.logger = logger
    }

    /// The client's IP without its port; requests without a peer (in-process tests) share "local".
    package func client(peer: String?, headers: HTTPFields) -> String {
        var forwarded: [String] = []
        for value in headers[values: HTTPField.Name("X-Forwarded-For")!] {
            forwarded += value.split(separator: ",").map { String($0).trimmingWhitespace() }
        }
        if forwarded.isEmpty, trusts(peer: peer), let logger, warned.first() {
            // Every client then counts as the proxy: one busy user, or one guesser, limits them all.
            logger.warning("a trusted proxy sent a request without X-Forwarded-For: every client behind it shares the proxy's address in the per-client limits; make the proxy set X-Forwarded-For, or remove it from [api] trusted_proxies",
                           metadata: ["peer": "\(peer ?? "")"])
        }
        return Self.client(peer: peer, forwardedFor: forwarded, trusting: trustedProxies)
    }

    /// What a per-client limit counts `address` under: an IPv4 address (or an IPv4-mapped IPv6 one) as itself,
    /// an IPv6 address by its /64, in one canonical spelling. One subscriber holds a whole /64, so keyed by the
    /// full address one client would have 2⁶⁴ buckets; anything that is not an address is its own key.
    package static func limitKey(_ address: String) -> String {
        guard let bytes = IPNetwork.parse(address) else { return address }
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            return bytes[12...].map(String.init).joined(separator: ".")
        }
        let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
        return groups.joined(separator: ":") + "::/64"
    }

    /// Whether `peer` is one of the trusted proxies, whose forwarding headers are believed.
    package func trusts(peer: String?) -> Bool {
        guard let peer, let bytes = IPNetwork.parse(peer) else { return false }
        return trustedProxies.contains { $0.contains(bytes) }
    }

    /// Behind trusted proxies the client is the nearest address in `X-Forwarded-For` that is not one of
    /// them: what a client writes there itself is never believed past the first hop it does not control.
    static func client(peer: String?, forwardedFor hops: [String], trusting proxies: [IPNetwork]) -> String {
        guard var address = peer else { return "local" }
        for hop in hops.reversed() {
            guard let bytes = IPNetwork.parse(address), proxies.contains(where: { $0.contains(bytes) }),
                  IPNetwork.parse(hop) != nil else { break }
            address = hop
        }
        return address
    }
}

/// A flag that answers true to the first asker only, on any thread.
private final class WarnedOnce: Sendable {
    private let done = Atomic<Bool>(false)

    func first() -> Bool { !done.exchange(true, ordering: .relaxed) }
}
