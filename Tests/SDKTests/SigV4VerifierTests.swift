import ProviderCrypto
import ProviderModel
import Testing

@Suite("SigV4Verifier")
struct SigV4VerifierTests {
    static let credentials = AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let now: Int64 = 1_700_000_000_000
    let verifier = SigV4Verifier(service: "ses", credentials: [credentials])

    func signed(secret: String = credentials.secretAccessKey, token: String = "", body: String = #"{"a":1}"#,
                at time: Int64 = now) -> SigV4Verifier.Received {
        let signer = SigV4Signer(credentials: AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: secret, sessionToken: token),
                                 region: "eu-west-1", service: "ses")
        let headers = signer.sign(method: "POST", url: "http://127.0.0.1:6100/v2/email/outbound-emails",
                                  headers: [KeyValue("content-type", "application/json")], body: Array(body.utf8), nowMilliseconds: time)
        return SigV4Verifier.Received(method: "POST", path: "/v2/email/outbound-emails", query: "",
                                      headers: headers + [KeyValue("host", "127.0.0.1:6100"), KeyValue("user-agent", "test")],
                                      body: Array(body.utf8))
    }

    @Test("a request signed by the signer verifies, and names its key and region")
    func accepts() throws {
        #expect(try verifier.verify(signed(), nowMilliseconds: Self.now + 60_000).get()
                == SigV4Verifier.Signer(accessKeyId: "AKIDEXAMPLE", region: "eu-west-1"))
    }

    @Test("a wrong secret, a changed body, an unknown key, a stale date and no header are each refused with AWS's code")
    func refuses() {
        #expect(verifier.verify(signed(secret: "other"), nowMilliseconds: Self.now).failure?.code == "SignatureDoesNotMatch")
        var changed = signed()
        changed.body = Array(#"{"a":2}"#.utf8)
        #expect(verifier.verify(changed, nowMilliseconds: Self.now).failure?.code == "SignatureDoesNotMatch")
        let stranger = SigV4Verifier(service: "ses", credentials: [AWSCredentials(accessKeyId: "AKIDOTHER", secretAccessKey: "x")])
        #expect(stranger.verify(signed(), nowMilliseconds: Self.now).failure == .unrecognizedClient)
        #expect(verifier.verify(signed(at: Self.now - 301_000), nowMilliseconds: Self.now).failure?.code == "InvalidSignatureException")
        var unsigned = signed()
        unsigned.headers.removeAll { $0.name == "authorization" }
        #expect(verifier.verify(unsigned, nowMilliseconds: Self.now).failure == .missingAuthentication)
        var garbled = signed()
        garbled.headers = garbled.headers.map { $0.name == "authorization" ? KeyValue("authorization", "AWS4-HMAC-SHA256 nonsense") : $0 }
        #expect(verifier.verify(garbled, nowMilliseconds: Self.now).failure?.code == "IncompleteSignatureException")
    }

    @Test("a configured session token must be the one signed")
    func sessionToken() {
        let strict = SigV4Verifier(service: "ses", credentials: [AWSCredentials(
            accessKeyId: "AKIDEXAMPLE", secretAccessKey: Self.credentials.secretAccessKey, sessionToken: "token-1")])
        #expect((try? strict.verify(signed(token: "token-1"), nowMilliseconds: Self.now).get()) != nil)
        #expect(strict.verify(signed(token: "token-2"), nowMilliseconds: Self.now).failure == .unrecognizedClient)
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { error } else { nil }
    }
}
