import Synchronization

/// RFC 8058 one-click unsubscribe as a mailbox provider reads it from a message's headers: `List-Unsubscribe` with
/// an http(s) URI in angle brackets (https, or http on a loopback host for local runs) and
/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click`. The sandbox refuses a message whose pair is half there or
/// malformed, so that a sender's mistake is loud, and keeps the first links it accepted for tests to follow.
enum OneClickUnsubscribe {
    enum Check: Equatable {
        case absent
        case valid(url: String)
        case invalid(String)
    }

    static func check(_ headers: [(name: String, value: String)]) -> Check {
        func value(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
        let list = value("List-Unsubscribe"), post = value("List-Unsubscribe-Post")
        guard let list else {
            return post == nil ? .absent : .invalid("List-Unsubscribe-Post without List-Unsubscribe")
        }
        guard let post else { return .absent }  // a plain List-Unsubscribe (mailto or a page) is allowed, not one-click
        guard post == "List-Unsubscribe=One-Click" else {
            return .invalid("List-Unsubscribe-Post must be exactly List-Unsubscribe=One-Click, not \(post.prefix(80))")
        }
        let uris = list.split(separator: ",").map { $0.trimmed(" \t") }
        guard uris.allSatisfy({ $0.hasPrefix("<") && $0.hasSuffix(">") && $0.count > 2 }) else {
            return .invalid("List-Unsubscribe must be a list of <URI>s")
        }
        let links = uris.map { String($0.dropFirst().dropLast()) }
        guard let link = links.first(where: { isHTTPS($0) || isLoopbackHTTP($0) }) else {
            return .invalid("one-click List-Unsubscribe needs an https URI")
        }
        return .valid(url: link)
    }

    private static func isHTTPS(_ uri: String) -> Bool { uri.hasPrefix("https://") && uri.count > 8 }

    private static func isLoopbackHTTP(_ uri: String) -> Bool {
        ["http://127.0.0.1:", "http://127.0.0.1/", "http://localhost:", "http://localhost/"].contains { uri.hasPrefix($0) }
    }
}

private extension Substring {
    func trimmed(_ set: String) -> Substring {
        var text = self
        while let first = text.first, set.contains(first) { text.removeFirst() }
        while let last = text.last, set.contains(last) { text.removeLast() }
        return text
    }
}

/// The one-click links accepted, per provider, in arrival order: the first `capacity` of them
/// (`GET /sandbox/unsubscribe-links?provider=`), so a test can follow one as a mail client would.
final class UnsubscribeLinkLog: Sendable {
    private let links = Mutex<[SandboxProvider: [(to: String, url: String)]]>([:])
    let capacity: Int

    init(capacity: Int = 1_000) { self.capacity = capacity }

    func record(_ provider: SandboxProvider, to recipients: [String], url: String) {
        links.withLock { links in
            for recipient in recipients where links[provider, default: []].count < capacity {
                links[provider, default: []].append((recipient, url))
            }
        }
    }

    func links(_ provider: SandboxProvider) -> [(to: String, url: String)] { links.withLock { $0[provider] ?? [] } }

    func reset() { links.withLock { $0 = [:] } }
}
