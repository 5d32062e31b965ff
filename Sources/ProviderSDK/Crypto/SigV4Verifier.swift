import ProviderModel

/// Checks a SigV4-signed request the way an AWS endpoint does: parses the
/// `Authorization` header, recomputes the signature over the headers it names,
/// and compares in constant time. The sandbox answers SES calls with it.
public struct SigV4Verifier: Sendable {
    /// Why a request was refused, in AWS's own error codes.
    public enum Refusal: Error, Sendable, Equatable {
        /// No `Authorization` header (AWS: `MissingAuthenticationTokenException`).
        case missingAuthentication
        /// The header is not `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`,
        /// or names a header the request lacks (AWS: `IncompleteSignatureException`).
        case incompleteSignature(String)
        /// The access key is unknown, or the session token does not belong to it
        /// (AWS: `UnrecognizedClientException`).
        case unrecognizedClient
        /// `x-amz-date` is more than 5 minutes from the server's clock.
        case expired(String)
        /// The recomputed signature differs (AWS: `SignatureDoesNotMatch`).
        case signatureDoesNotMatch

        public var code: String {
            switch self {
            case .missingAuthentication: "MissingAuthenticationTokenException"
            case .incompleteSignature: "IncompleteSignatureException"
            case .unrecognizedClient: "UnrecognizedClientException"
            case .expired: "InvalidSignatureException"
            case .signatureDoesNotMatch: "SignatureDoesNotMatch"
            }
        }

        public var message: String {
            switch self {
            case .missingAuthentication: "Missing Authentication Token"
            case .incompleteSignature(let detail): detail
            case .unrecognizedClient: "The security token included in the request is invalid."
            case .expired(let detail): detail
            case .signatureDoesNotMatch:
                "The request signature we calculated does not match the signature you provided. "
                    + "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
            }
        }
    }

    /// The request as received.
    public struct Received: Sendable {
        public var method: String
        public var path: String
        public var query: String
        public var headers: [KeyValue]
        public var body: [UInt8]

        public init(method: String, path: String, query: String, headers: [KeyValue], body: [UInt8]) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.body = body
        }

        func header(_ name: String) -> String? {
            let values = headers.filter { $0.name.caseInsensitiveEquals(name) }.map(\.value)
            return values.isEmpty ? nil : values.joined(separator: ",")
        }
    }

    public static let clockSkewSeconds: Int64 = 300

    public let service: String
    /// Secret and session token (empty: any token) by access key id.
    public let credentials: [String: AWSCredentials]

    public init(service: String, credentials: [AWSCredentials]) {
        self.service = service
        var byKey: [String: AWSCredentials] = [:]
        for credential in credentials { byKey[credential.accessKeyId] = credential }
        self.credentials = byKey
    }

    /// Who signed a request, and for which region.
    public struct Signer: Sendable, Equatable {
        public var accessKeyId: String
        public var region: String

        public init(accessKeyId: String, region: String) {
            self.accessKeyId = accessKeyId
            self.region = region
        }
    }

    /// The access key (and region) that signed `request`, or why it is refused.
    public func verify(_ request: Received, nowMilliseconds: Int64) -> Result<Signer, Refusal> {
        guard let authorization = request.header("authorization") else { return .failure(.missingAuthentication) }
        guard let parsed = Self.parseAuthorization(authorization) else {
            return .failure(.incompleteSignature("Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
                                                 + "parameters of the AWS4-HMAC-SHA256 algorithm."))
        }
        let scopeParts = parsed.credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard scopeParts.count == 5, scopeParts[4] == "aws4_request" else {
            return .failure(.incompleteSignature("Credential should be scoped to a valid region, e.g. 'AKID/20150830/us-east-1/\(service)/aws4_request'."))
        }
        let (accessKey, date, region, scopeService) = (scopeParts[0], scopeParts[1], scopeParts[2], scopeParts[3])
        guard scopeService == service else {
            return .failure(.incompleteSignature("Credential should be scoped to correct service: '\(service)'."))
        }
        guard let credential = credentials[accessKey] else { return .failure(.unrecognizedClient) }
        if !credential.sessionToken.isEmpty, request.header("x-amz-security-token") != credential.sessionToken {
            return .failure(.unrecognizedClient)
        }
        guard let amzDate = request.header("x-amz-date"), amzDate.utf8.count == 16,
              let signedAt = ISO8601.parseBasicUTC(amzDate) else {
            return .failure(.incompleteSignature("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."))
        }
        guard amzDate.hasPrefix(date) else {
            return .failure(.signatureDoesNotMatch)
        }
        // X-Amz-Date has a four-digit year, so this cannot overflow today; the shared check keeps it so.
        if !BoundedInteger.isWithin(signedAt, Self.clockSkewSeconds, of: nowMilliseconds / 1000) {
            let now = ISO8601.basicUTC(milliseconds: nowMilliseconds)
            return .failure(.expired("Signature expired: \(amzDate) is now earlier than \(now) (\(now) - 5 min.)"))
        }
        let names = parsed.signedHeaders.split(separator: ";").map(String.init)
        guard names.contains("host") else {
            return .failure(.incompleteSignature("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."))
        }
        var signed: [KeyValue] = []
        for name in names {
            guard let value = request.header(name) else {
                return .failure(.incompleteSignature("The header '\(name)' is signed but was not sent."))
            }
            signed.append(KeyValue(name, value))
        }
        let payloadHash = Encoding.hex(Digest.sha256(request.body))
        if let declared = request.header("x-amz-content-sha256"), declared != "UNSIGNED-PAYLOAD", declared != payloadHash {
            return .failure(.signatureDoesNotMatch)
        }
        let canonical = SigV4.canonicalRequest(SigV4.Request(method: request.method, path: request.path, query: request.query,
                                                             headers: signed, payloadHash: payloadHash))
        guard canonical.signedHeaders == parsed.signedHeaders else { return .failure(.signatureDoesNotMatch) }
        let key = SigV4.signingKey(secret: credential.secretAccessKey, date: date, region: region, service: service)
        let expected = SigV4.signature(signingKey: key, stringToSign: SigV4.stringToSign(
            amzDate: amzDate, scope: SigV4.scope(date: date, region: region, service: service), canonicalRequest: canonical.text))
        guard Digest.constantTimeEqual(Array(expected.utf8), Array(parsed.signature.utf8)) else {
            return .failure(.signatureDoesNotMatch)
        }
        return .success(Signer(accessKeyId: accessKey, region: region))
    }

    /// `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`, read on bytes:
    /// it runs on every request the sandbox serves.
    static func parseAuthorization(_ header: String) -> (credential: String, signedHeaders: String, signature: String)? {
        var header = header
        return header.withUTF8 { bytes -> (String, String, String)? in
            let prefix = SigV4.algorithm.utf8.count
            guard bytes.count > prefix, bytes[prefix] == UInt8(ascii: " "),
                  bytes[..<prefix].elementsEqual(SigV4.algorithm.utf8) else { return nil }
            var credential: String?, signedHeaders: String?, signature: String?
            var start = prefix + 1
            while start <= bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != UInt8(ascii: ",") { end += 1 }
                var low = start, high = end
                while low < high, bytes[low] == UInt8(ascii: " ") { low += 1 }
                while high > low, bytes[high - 1] == UInt8(ascii: " ") { high -= 1 }
                guard let equals = bytes[low..<high].firstIndex(of: UInt8(ascii: "=")) else { return nil }
                let name = bytes[low..<equals]
                let value = String(decoding: UnsafeBufferPointer(rebasing: bytes[(equals + 1)..<high]), as: UTF8.self)
                if name.elementsEqual("Credential".utf8) { credential = value }
                else if name.elementsEqual("SignedHeaders".utf8) { signedHeaders = value }
                else if name.elementsEqual("Signature".utf8) { signature = value }
                else { return nil }
                start = end + 1
            }
            guard let credential, let signedHeaders, let signature else { return nil }
            return (credential, signedHeaders, signature)
        }
    }
}
