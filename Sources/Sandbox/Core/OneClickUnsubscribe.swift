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
        guard !headers.isEmpty else { return .absent }
        func value(_ name: String) -> String? { headers.first { equalIgnoringASCIICase($0.name, name) }?.value }
        let list = value("List-Unsubscribe"), post = value("List-Unsubscribe-Post")
        guard let list else {
            return post == nil ? .absent : .invalid("List-Unsubscribe-Post without List-Unsubscribe")
        }
        guard let post else { return .absent }  // a plain List-Unsubscribe (mailto or a page) is allowed, not one-click
        guard post == "List-Unsubscribe=One-Click" else {
            return .invalid("List-Unsubscribe-Post must be exactly List-Unsubscribe=One-Click, not \(post.prefix(80))")
        }
        // Byte by byte: the sandbox reads this on every email a bulk send makes.
        var links: [String] = []
        for part in list.utf8.split(separator: UInt8(ascii: ",")) {
            var uri = part[...]
            while let first = uri.first, first == 0x20 || first == 0x09 { uri = uri.dropFirst() }
            while let last = uri.last, last == 0x20 || last == 0x09 { uri = uri.dropLast() }
            guard uri.count > 2, uri.first == UInt8(ascii: "<"), uri.last == UInt8(ascii: ">") else {
                return .invalid("List-Unsubscribe must be a list of <URI>s")
            }
            links.append(String(decoding: uri.dropFirst().dropLast(), as: UTF8.self))
        }
        guard let link = links.first(where: { isHTTPS($0) || isLoopbackHTTP($0) }) else {
            return .invalid("one-click List-Unsubscribe needs an https URI")
        }
        return .valid(url: link)
    }

    private static func equalIgnoringASCIICase(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && zip(a.utf8, b.utf8).allSatisfy { $0 | 0x20 == $1 | 0x20 }
    }

    private static func isHTTPS(_ uri: String) -> Bool { uri.hasPrefix("https://") && uri.utf8.count > 8 }

    private static func isLoopbackHTTP(_ uri: String) -> Bool {
        ["http://127.0.0.1:", "http://127.0.0.1/", "http://localhost:", "http://localhost/"].contains { uri.hasPrefix($0) }
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
