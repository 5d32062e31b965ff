import ProviderModel

/// What the host demands of a request a plugin emits before it would send it:
/// an HTTP method token, an absolute http(s) URL, header names that are
/// tokens and values without CR, LF or NUL (no header injection), and message
/// indices in range.
enum RequestRules {
    static func problem(in request: PreparedRequest, messageCount: Int) -> String? {
        guard !request.method.isEmpty, request.method.utf8.allSatisfy({ (65...90).contains($0) }) else {
            return "method \"\(request.method.prefix(20))\" is not an upper-case HTTP method"
        }
        let scheme = request.url.utf8.prefix(8).map { $0 | 0x20 }
        guard scheme.starts(with: "https://".utf8) || scheme.starts(with: "http://".utf8),
              !request.url.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7f }) else {
            return "url \"\(request.url.prefix(80))\" is not an absolute http(s) URL without spaces or controls"
        }
        for header in request.headers {
            guard HTTPHeaderRules.isToken(header.name) else {
                return "header name \"\(header.name.prefix(40))\" is not an HTTP token"
            }
            guard HTTPHeaderRules.isSafeValue(header.value) else {
                return "header \(header.name) has CR, LF or NUL in its value"
            }
        }
        guard !request.messageIndices.isEmpty else { return "the request carries no message" }
        if let bad = request.messageIndices.first(where: { $0 < 0 || $0 >= messageCount }) {
            return "message index \(bad) is out of range 0..<\(messageCount)"
        }
        return nil
    }
}
