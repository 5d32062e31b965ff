import ProviderCrypto
import ProviderModel
import Testing

/// The SigV4 vector of PROVIDERS.md §2.2 (botocore's SigV4Auth with its clock
/// pinned), with and without a session token, and the date formats it needs.
@Suite("SigV4 against the PROVIDERS.md vector")
struct SigV4VectorTests {
    static let body = #"{"FromEmailAddress":"sender@example.com","Destination":{"ToAddresses":["recipient@example.com"]},"Content":{"Simple":{"Subject":{"Data":"Hello","Charset":"UTF-8"},"Body":{"Text":{"Data":"Hello world","Charset":"UTF-8"}}}},"ConfigurationSetName":"my-config-set"}"#
    static let url = "https://email.us-east-1.amazonaws.com/v2/email/outbound-emails"
    static let now: Int64 = 1_705_320_000_000  // 2024-01-15T12:00:00Z

    func sign(token: String) -> [KeyValue] {
        let signer = SigV4Signer(credentials: AWSCredentials(accessKeyId: "AKIDEXAMPLE",
                                                             secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                                             sessionToken: token),
                                 region: "us-east-1", service: "ses")
        return signer.sign(method: "POST", url: Self.url, headers: [KeyValue("Content-Type", "application/json")],
                           body: Array(Self.body.utf8), nowMilliseconds: Self.now)
    }

    @Test("canonical request, string to sign and Authorization")
    func vector() {
        #expect(Encoding.hex(Digest.sha256(Array(Self.body.utf8))) == "d121ebce87885811b028935f67e2be73194be99a15408decbcff512cb2eadc03")
        let request = SigV4.Request(method: "POST", path: "/v2/email/outbound-emails", headers: [
            KeyValue("Content-Type", "application/json"), KeyValue("host", "email.us-east-1.amazonaws.com"),
            KeyValue("X-Amz-Date", "20240115T120000Z"),
        ], payloadHash: "d121ebce87885811b028935f67e2be73194be99a15408decbcff512cb2eadc03")
        let canonical = SigV4.canonicalRequest(request)
        #expect(canonical.text == """
            POST
            /v2/email/outbound-emails

            content-type:application/json
            host:email.us-east-1.amazonaws.com
            x-amz-date:20240115T120000Z

            content-type;host;x-amz-date
            d121ebce87885811b028935f67e2be73194be99a15408decbcff512cb2eadc03
            """)
        let stringToSign = SigV4.stringToSign(amzDate: "20240115T120000Z", scope: "20240115/us-east-1/ses/aws4_request",
                                              canonicalRequest: canonical.text)
        #expect(stringToSign.hasSuffix("\nf68f92edbf6813f70c8840a41d4fdacff7c45724a5e5b48eae986cd8a3c52167"))
        let headers = sign(token: "")
        #expect(headers.first(named: "x-amz-date") == "20240115T120000Z")
        #expect(headers.first(named: "authorization") == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240115/us-east-1/ses/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=b09bd67a882db6cccf4797a350af5517880f31ed57cce1425a4b5f8405507850")
        #expect(headers.first(named: "x-amz-security-token") == nil)
    }

    @Test("a session token is sent and signed")
    func sessionToken() {
        let headers = sign(token: "FQoGZXIvYXdzEXAMPLETOKEN")
        #expect(headers.first(named: "x-amz-security-token") == "FQoGZXIvYXdzEXAMPLETOKEN")
        #expect(headers.first(named: "authorization") == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240115/us-east-1/ses/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=d28c8488ebec2363063adc7d77fb78448d008bc0b6b898a8725fe647062f8e43")
    }

    @Test("UTC date formats across leap days, centuries and before 1970")
    func dates() {
        #expect(ISO8601.basicUTC(milliseconds: 1_705_320_000_000) == "20240115T120000Z")
        #expect(ISO8601.basicUTC(milliseconds: 951_782_400_000) == "20000229T000000Z")
        #expect(ISO8601.extendedUTC(milliseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(ISO8601.extendedUTC(milliseconds: -1) == "1969-12-31T23:59:59.999Z")
        #expect(ISO8601.extendedUTC(milliseconds: 4_102_444_799_123) == "2099-12-31T23:59:59.123Z")
        for ms: Int64 in [0, 1, 86_399_999, 1_700_000_000_123, 951_868_799_999, -86_400_001] {
            #expect(ISO8601.milliseconds(ISO8601.extendedUTC(milliseconds: ms)) == ms)
        }
    }
}
