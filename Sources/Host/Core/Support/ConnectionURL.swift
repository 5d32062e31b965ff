/// A server URL as an error message may show it: the password of its `user:password@` replaced, so
/// that an error logged or answered never carries a credential.
public enum ConnectionURL {
    public static func redacted(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://")?.upperBound else { return url }
        let authorityEnd = url[schemeEnd...].firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? url.endIndex
        guard let at = url[schemeEnd..<authorityEnd].lastIndex(of: "@") else { return url }
        // `user:password@`: the user stays; a lone `token@` (NATS) is a secret whole.
        guard let colon = url[schemeEnd..<at].firstIndex(of: ":") else { return String(url[..<schemeEnd]) + "***" + String(url[at...]) }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }

    /// The `user:password@` part of a URL, percent-decoded; nil parts when absent.
    public static func credentials(_ url: String) -> (user: String?, password: String?) {
        guard let schemeEnd = url.range(of: "://")?.upperBound else { return (nil, nil) }
        let authorityEnd = url[schemeEnd...].firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? url.endIndex
        guard let at = url[schemeEnd..<authorityEnd].lastIndex(of: "@") else { return (nil, nil) }
        let userinfo = url[schemeEnd..<at]
        guard let colon = userinfo.firstIndex(of: ":") else { return (decoded(userinfo), nil) }
        let user = userinfo[..<colon]
        return (user.isEmpty ? nil : decoded(user), decoded(userinfo[userinfo.index(after: colon)...]))
    }

    private static func decoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var index = text.utf8.startIndex
        let utf8 = text.utf8
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%"), let high = utf8.index(index, offsetBy: 1, limitedBy: utf8.endIndex), high < utf8.endIndex,
               let low = utf8.index(index, offsetBy: 2, limitedBy: utf8.endIndex), low < utf8.endIndex,
               let value = UInt8(String(decoding: [utf8[high], utf8[low]], as: UTF8.self), radix: 16) {
                bytes.append(value)
                index = utf8.index(index, offsetBy: 3)
            } else {
                bytes.append(byte)
                index = utf8.index(after: index)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
