import HTTPTypes
import HostCore

/// Who sent a request, as every per-client limit counts it (the API's per-address rate limit and the
/// dashboard's sign-in limits): the peer's address, or behind proxies listed in `[api] trusted_proxies`
/// the nearest address in `X-Forwarded-For` that is not one of them.
package struct ClientAddress: Sendable {
    /// Proxies whose `X-Forwarded-For` names the client and whose `X-Forwarded-Proto` is believed.
    package let trustedProxies: [IPNetwork]

    package init(trustedProxies: [IPNetwork]) {
        self.trustedProxies = trustedProxies
    }

    /// The client's IP without its port; requests without a peer (in-process tests) share "local".
    package func client(peer: String?, headers: HTTPFields) -> String {
        var forwarded: [String] = []
        for value in headers[values: HTTPField.Name("X-Forwarded-For")!] {
            forwarded += value.split(separator: ",").map { String($0).trimmingWhitespace() }
        }
        return Self.client(peer: peer, forwardedFor: forwarded, trusting: trustedProxies)
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
