import ProviderModel
import Synchronization

/// AWS Signature Version 4 (docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html),
/// byte-exact with botocore's `SigV4Auth`: the plugin signs with it, the
/// sandbox checks signatures with it, and Tests/Vectors/sigv4.py compares it
/// with botocore on fresh random requests each run.
public enum SigV4 {
    public static let algorithm = "AWS4-HMAC-SHA256"

    /// Headers botocore never signs (`botocore.auth.SIGNED_HEADERS_BLACKLIST`).
    public static let unsignedHeaders: [String] = [
        "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id", "authorization",
    ]

    /// What a signature covers.
    public struct Request: Sendable {
        public var method: String
        /// The path as sent, e.g. `/v2/email/outbound-emails`.
        public var path: String
        /// The raw query string without `?`; empty for none.
        public var query: String
        /// The headers to sign, `host` included; names in any case.
        public var headers: [KeyValue]
        /// Lower-case hex SHA-256 of the body.
        public var payloadHash: String

        public init(method: String, path: String, query: String = "", headers: [KeyValue], payloadHash: String) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.payloadHash = payloadHash
        }
    }

    /// `{date}/{region}/{service}/aws4_request`.
    public static func scope(date: String, region: String, service: String) -> String {
        "\(date)/\(region)/\(service)/aws4_request"
    }

    /// The canonical request and the `SignedHeaders` list it used.
    public static func canonicalRequest(_ request: Request) -> (text: String, signedHeaders: String) {
        // Repeated headers are joined with commas; values have their whitespace runs collapsed.
        var byName: [[UInt8]: [UInt8]] = [:]
        for header in request.headers {
            let name = asciiLowercased(header.name)
            let value = collapseWhitespace(header.value)
            if let existing = byName[name] {
                byName[name] = existing + [UInt8(ascii: ",")] + value
            } else {
                byName[name] = value
            }
        }
        let names = byName.keys.sorted { $0.lexicographicallyPrecedes($1) }
        var text: [UInt8] = []
        text.reserveCapacity(512)
        text.append(contentsOf: request.method.uppercased().utf8)
        text.append(0x0a)
        text.append(contentsOf: canonicalURI(request.path).utf8)
        text.append(0x0a)
        text.append(contentsOf: canonicalQuery(request.query).utf8)
        text.append(0x0a)
        for name in names {
            text.append(contentsOf: name)
            text.append(UInt8(ascii: ":"))
            text.append(contentsOf: byName[name] ?? [])
            text.append(0x0a)
        }
        var signedHeaders: [UInt8] = []
        for (index, name) in names.enumerated() {
            if index > 0 { signedHeaders.append(UInt8(ascii: ";")) }
            signedHeaders.append(contentsOf: name)
        }
        text.append(0x0a)
        text.append(contentsOf: signedHeaders)
        text.append(0x0a)
        text.append(contentsOf: request.payloadHash.utf8)
        return (String(decoding: text, as: UTF8.self), String(decoding: signedHeaders, as: UTF8.self))
    }

    static func asciiLowercased(_ text: String) -> [UInt8] {
        text.utf8.map { (65...90).contains($0) ? $0 + 32 : $0 }
    }

    public static func stringToSign(amzDate: String, scope: String, canonicalRequest: String) -> String {
        algorithm + "\n" + amzDate + "\n" + scope + "\n" + Encoding.hex(Digest.sha256(Array(canonicalRequest.utf8)))
    }

    /// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
    public static func signingKey(secret: String, date: String, region: String, service: String) -> [UInt8] {
        var key = Digest.hmacSHA256(key: Array(("AWS4" + secret).utf8), Array(date.utf8))
        key = Digest.hmacSHA256(key: key, Array(region.utf8))
        key = Digest.hmacSHA256(key: key, Array(service.utf8))
        return Digest.hmacSHA256(key: key, Array("aws4_request".utf8))
    }

    public static func signature(signingKey: [UInt8], stringToSign: String) -> String {
        Encoding.hex(Digest.hmacSHA256(key: signingKey, Array(stringToSign.utf8)))
    }

    /// The `host` header botocore signs: the URL's authority without a default port.
    public static func canonicalHost(scheme: String, authority: String) -> String {
        let lowered = authority.lowercased()
        if scheme.lowercased() == "https", lowered.hasSuffix(":443") { return String(lowered.dropLast(4)) }
        if scheme.lowercased() == "http", lowered.hasSuffix(":80") { return String(lowered.dropLast(3)) }
        return lowered
    }

    /// botocore: `' '.join(value.split())`. Python splits on Unicode whitespace; header
    /// values are ASCII in practice, so the ASCII whitespace Python knows is what is collapsed.
    static func collapseWhitespace(_ value: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count)
        var pendingSpace = false
        for byte in value.utf8 {
            if byte == 0x20 || (0x09...0x0d).contains(byte) || (0x1c...0x1f).contains(byte) {
                pendingSpace = !out.isEmpty
                continue
            }
            if pendingSpace {
                out.append(0x20)
                pendingSpace = false
            }
            out.append(byte)
        }
        return out
    }

    /// Every byte outside RFC 3986's unreserved set (and `extra`) as %XX, upper-case.
    static func percentEncode(_ text: some StringProtocol, keeping extra: UInt8? = nil) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        let hex = Array("0123456789ABCDEF".utf8)
        for byte in text.utf8 {
            let unreserved = (65...90).contains(byte) || (97...122).contains(byte) || (48...57).contains(byte)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "~")
            if unreserved || byte == extra {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0f)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// botocore (non-S3): dot segments and empty segments removed (`remove_dot_segments`), then
    /// every byte but unreserved and `/` encoded, so a `%` already in the path is encoded again.
    static func canonicalURI(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        if isCanonical(path) { return path }
        var segments: [Substring] = []
        for segment in path.split(separator: "/") where segment != "." {
            if segment == ".." {
                if !segments.isEmpty { segments.removeLast() }
            } else {
                segments.append(segment)
            }
        }
        var normalized = path.hasPrefix("/") ? "/" : ""
        normalized += segments.joined(separator: "/")
        if path.hasSuffix("/"), !segments.isEmpty { normalized += "/" }
        return percentEncode(normalized, keeping: UInt8(ascii: "/"))
    }

    /// A path that normalising and encoding leave as it is (every API path of SES):
    /// absolute, only unreserved bytes and `/`, no empty, `.` or `..` segments.
    static func isCanonical(_ path: String) -> Bool {
        var previous: UInt8 = 0
        var segmentStart = true
        var dots = 0
        for (index, byte) in path.utf8.enumerated() {
            if byte == UInt8(ascii: "/") {
                if index > 0 && (previous == UInt8(ascii: "/") || (dots > 0 && segmentStart)) { return false }
                segmentStart = true
                dots = 0
            } else {
                let unreserved = (65...90).contains(byte) || (97...122).contains(byte) || (48...57).contains(byte)
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "~")
                if byte == UInt8(ascii: ".") {
                    if segmentStart { dots += 1 }
                } else if unreserved {
                    segmentStart = false
                    dots = 0
                } else {
                    return false
                }
                if index == 0 { return false }
            }
            previous = byte
        }
        // A trailing "/." or "/.." segment, or a trailing "//".
        return !(segmentStart && dots > 0)
    }

    /// botocore (`_canonical_query_string_url`): the raw pairs, sorted by name then value.
    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> (Substring, Substring) in
            guard let equals = pair.firstIndex(of: "=") else { return (pair, "") }
            return (pair[..<equals], pair[pair.index(after: equals)...])
        }
        // Python compares code points, which is UTF-8 byte order.
        return pairs.sorted {
            $0.0 == $1.0 ? $0.1.utf8.lexicographicallyPrecedes($1.1.utf8) : $0.0.utf8.lexicographicallyPrecedes($1.0.utf8)
        }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }
}

/// Long-lived AWS credentials (and the session token of temporary ones).
public struct AWSCredentials: Sendable, Equatable {
    public var accessKeyId: String
    public var secretAccessKey: String
    public var sessionToken: String

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String = "") {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }
}

/// Signs requests for one service in one region, the way botocore does.
public struct SigV4Signer: Sendable {
    public let credentials: AWSCredentials
    public let region: String
    public let service: String
    /// The day's signing key, derived once per UTC date rather than with four HMACs per request.
    private let dailyKey = DailySigningKey()

    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The headers to send: `headers`, then `x-amz-date`, `x-amz-security-token`
    /// (temporary credentials; signed, as botocore adds it before signing) and
    /// `authorization`. `url` is absolute (`https://host[:port]/path[?query]`).
    public func sign(method: String, url: String, headers: [KeyValue], body: [UInt8], nowMilliseconds: Int64) -> [KeyValue] {
        let parts = URLParts(url)
        let amzDate = ISO8601.basicUTC(milliseconds: nowMilliseconds)
        let date = String(amzDate.prefix(8))
        var toSend = headers.filter {
            !$0.name.caseInsensitiveEquals("x-amz-date") && !$0.name.caseInsensitiveEquals("x-amz-security-token")
                && !$0.name.caseInsensitiveEquals("authorization")
        }
        toSend.append(KeyValue("x-amz-date", amzDate))
        if !credentials.sessionToken.isEmpty { toSend.append(KeyValue("x-amz-security-token", credentials.sessionToken)) }
        var signed = toSend.filter { header in !SigV4.unsignedHeaders.contains { header.name.caseInsensitiveEquals($0) } }
        if !signed.contains(where: { $0.name.caseInsensitiveEquals("host") }) {
            signed.append(KeyValue("host", SigV4.canonicalHost(scheme: parts.scheme, authority: parts.authority)))
        }
        let request = SigV4.Request(method: method, path: parts.path, query: parts.query, headers: signed,
                                    payloadHash: Encoding.hex(Digest.sha256(body)))
        let canonical = SigV4.canonicalRequest(request)
        let scope = SigV4.scope(date: date, region: region, service: service)
        let key = dailyKey.key(for: date) {
            SigV4.signingKey(secret: credentials.secretAccessKey, date: date, region: region, service: service)
        }
        let signature = Encoding.hex(key.mac(Array(SigV4.stringToSign(amzDate: amzDate, scope: scope,
                                                                     canonicalRequest: canonical.text).utf8)))
        toSend.append(KeyValue("authorization", "\(SigV4.algorithm) Credential=\(credentials.accessKeyId)/\(scope), "
                                   + "SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"))
        return toSend
    }
}

/// One signing key per UTC date, for one signer's credentials, region and service.
final class DailySigningKey: Sendable {
    private let current = Mutex<(date: String, key: HMACKey)?>(nil)

    func key(for date: String, derive: () -> [UInt8]) -> HMACKey {
        if let cached = current.withLock({ $0 }), cached.date == date { return cached.key }
        let key = HMACKey(derive())
        current.withLock { $0 = (date, key) }
        return key
    }
}

/// The pieces of an absolute URL a signature needs; no validation beyond that.
public struct URLParts: Sendable {
    public var scheme = ""
    public var authority = ""
    public var path = "/"
    public var query = ""

    public init(_ url: String) {
        let bytes = Array(url.utf8)
        func text(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }
        var start = 0
        // scheme "://"
        if let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon + 2 < bytes.count,
           bytes[colon + 1] == UInt8(ascii: "/"), bytes[colon + 2] == UInt8(ascii: "/") {
            scheme = text(0..<colon)
            start = colon + 3
        }
        let end = bytes[start...].firstIndex(of: UInt8(ascii: "#")) ?? bytes.count
        let pathStart = bytes[start..<end].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? end
        authority = text(start..<pathStart)
        let mark = bytes[pathStart..<end].firstIndex(of: UInt8(ascii: "?")) ?? end
        if mark < end { query = text((mark + 1)..<end) }
        path = mark > pathStart ? text(pathStart..<mark) : "/"
    }
}
