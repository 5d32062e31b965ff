import ProviderModel

/// What the host demands of a request a plugin emits before it would send it:
/// an HTTP method token, an absolute http(s) URL, header names that are
/// tokens and values without CR, LF or NUL (no header injection), and message
/// indices in range. Runs on every request of every send, so each check reads
/// a string's UTF-8 as one buffer.
enum RequestRules {
    static func problem(in request: PreparedRequest, messageCount: Int) -> String? {
        guard request.method.withUTF8Buffer(isMethod) else {
            return "method \"\(request.method.prefix(20))\" is not an upper-case HTTP method"
        }
        guard request.url.withUTF8Buffer(isAbsoluteHTTPURL) else {
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

    private static func isMethod(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !bytes.isEmpty else { return false }
        for byte in bytes where !(UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) { return false }
        return true
    }

    private static func isAbsoluteHTTPURL(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        func hasScheme(_ scheme: StaticString) -> Bool {
            let count = scheme.utf8CodeUnitCount
            guard bytes.count > count else { return false }
            for index in 0..<count where bytes[index] | 0x20 != scheme.utf8Start[index] | 0x20 { return false }
            return true
        }
        guard hasScheme("https://") || hasScheme("http://") else { return false }
        for byte in bytes where byte <= 0x20 || byte == 0x7f { return false }
        return true
    }
}
