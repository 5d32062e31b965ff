import Foundation
import HostCore
import ProviderCrypto
import ProviderModel

/// One-click unsubscribe (RFC 8058) for bulk email: each recipient's message carries `List-Unsubscribe` with a
/// link of its own and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`, so a mail client can unsubscribe it
/// with one POST, no login. The link's token names the sender (user and send-config) and the address, and is
/// signed with a key derived from the master key: it cannot be made for another address or sender without the
/// key, and nothing needs storing to read it back.
public struct UnsubscribeLinks: Sendable {
    /// Where the links point: `<baseURL>/unsubscribe/<token>`.
    public let baseURL: String
    /// An address a client may write to instead (`mailto:`), when the operator has one.
    public let mailto: String?
    /// The links' key with its pads absorbed once: a bulk send makes one link per email.
    private let key: HMACKey

    public static let path = "unsubscribe"
    public static let listUnsubscribe = "List-Unsubscribe"
    public static let listUnsubscribePost = "List-Unsubscribe-Post"
    public static let oneClick = "List-Unsubscribe=One-Click"
    /// 128 bits of HMAC-SHA256: beyond guessing, and it keeps the links short.
    static let macBytes = 16

    public init(baseURL: String, mailto: String?, masterKey: [UInt8]) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.mailto = mailto
        key = HMACKey(Digest.hmacSHA256(key: masterKey, Array("batchsender one-click unsubscribe v1".utf8)))
    }

    /// Whose unsubscribe a token is.
    public struct Subscriber: Sendable, Equatable {
        public var userID: String
        public var sendConfigID: String
        public var address: String

        public init(userID: String, sendConfigID: String, address: String) {
            self.userID = userID
            self.sendConfigID = sendConfigID
            self.address = address
        }
    }

    public func token(for subscriber: Subscriber) -> String? {
        signer(userID: subscriber.userID, sendConfigID: subscriber.sendConfigID)?.token(address: subscriber.address)
    }

    /// The links of one sender (a chunk's user and send-config): what is the same for each of its recipients is
    /// worked out once, so a link costs one HMAC and an encoding. Nil when the ids are not UUIDs.
    public func signer(userID: String, sendConfigID: String) -> Signer? {
        guard let user = Self.uuidBytes(userID), let config = Self.uuidBytes(sendConfigID) else { return nil }
        return Signer(key: key, prefix: user + config, link: Array("<\(baseURL)/\(Self.path)/".utf8),
                      mailto: mailto.map { Array(", <mailto:\($0)?subject=unsubscribe>".utf8) } ?? [])
    }

    public struct Signer: Sendable {
        let key: HMACKey
        let prefix: [UInt8]
        let link: [UInt8]
        let mailto: [UInt8]

        func tokenBytes(address: String) -> [UInt8] {
            let body = prefix + Array(address.utf8)
            return UnsubscribeLinks.base64URLBytes(body + key.mac(body).prefix(UnsubscribeLinks.macBytes))
        }

        func token(address: String) -> String { String(decoding: tokenBytes(address: address), as: UTF8.self) }

        /// The two headers for one recipient's message. The mailto is left out where it would make the value too
        /// long for a provider (a very long address).
        public func headers(address: String) -> [KeyValue] {
            var value = link + tokenBytes(address: address)
            value.append(UInt8(ascii: ">"))
            if !mailto.isEmpty, value.count + mailto.count <= UnsubscribeLinks.maxHeaderValueBytes { value += mailto }
            return [KeyValue(UnsubscribeLinks.listUnsubscribe, String(decoding: value, as: UTF8.self)),
                    KeyValue(UnsubscribeLinks.listUnsubscribePost, UnsubscribeLinks.oneClick)]
        }
    }

    /// The subscriber a token names, nil for anything this key did not sign.
    public func subscriber(for token: String) -> Subscriber? {
        guard token.utf8.count <= 1_024, let bytes = Self.unbase64URL(token), bytes.count > 32 + Self.macBytes else { return nil }
        let body = Array(bytes.dropLast(Self.macBytes)), mac = Array(bytes.suffix(Self.macBytes))
        guard Digest.constantTimeEqual(Array(key.mac(body).prefix(Self.macBytes)), mac),
              let address = String(validating: body[32...], as: UTF8.self) else { return nil }
        return Subscriber(userID: Self.uuidString(body[0..<16]), sendConfigID: Self.uuidString(body[16..<32]), address: address)
    }

    public func url(for subscriber: Subscriber) -> String? {
        token(for: subscriber).map { "\(baseURL)/\(Self.path)/\($0)" }
    }

    /// SES refuses a header value longer than this; the link alone stays within it (`UnsubscribeSettings`' bounds).
    static let maxHeaderValueBytes = 870

    /// Whether a payload's header is one of the pair, which the payload then sets itself.
    public static func isOwnHeader(_ header: KeyValue) -> Bool {
        let name = header.name.lowercased()
        return name == listUnsubscribe.lowercased() || name == listUnsubscribePost.lowercased()
    }

    /// The two headers for one recipient's message; none when the ids are not UUIDs.
    public func headers(for subscriber: Subscriber) -> [KeyValue] {
        signer(userID: subscriber.userID, sendConfigID: subscriber.sendConfigID)?.headers(address: subscriber.address) ?? []
    }

    private static func uuidBytes(_ text: String) -> [UInt8]? {
        guard let uuid = UUID(uuidString: text) else { return nil }
        return withUnsafeBytes(of: uuid.uuid) { Array($0) }
    }

    private static func uuidString(_ bytes: ArraySlice<UInt8>) -> String {
        let array = Array(bytes)
        let uuid = UUID(uuid: (array[0], array[1], array[2], array[3], array[4], array[5], array[6], array[7],
                               array[8], array[9], array[10], array[11], array[12], array[13], array[14], array[15]))
        return uuid.uuidString.lowercased()
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// base64url without padding (RFC 4648 §5), byte by byte.
    static func base64URLBytes(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index + 3 <= bytes.count {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
            index += 3
        }
        switch bytes.count - index {
        case 1:
            let n = UInt32(bytes[index]) << 16
            out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)]]
        case 2:
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)]]
        default:
            break
        }
        return out
    }

    static func unbase64URL(_ text: String) -> [UInt8]? {
        guard text.utf8.allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "=") }) else { return nil }
        return Encoding.unbase64(String(text.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 }))
    }
}
