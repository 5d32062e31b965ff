import ProviderCrypto
import ProviderKit
import Testing

@Suite("Crypto against published vectors")
struct CryptoVectorTests {
    @Test("HMAC-SHA256, RFC 4231 test case 2")
    func rfc4231() {
        let mac = Digest.hmacSHA256(key: Array("Jefe".utf8), Array("what do ya want for nothing?".utf8))
        #expect(Encoding.hex(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test("the Svix vector of PROVIDERS.md §1.2")
    func svix() throws {
        let key = try #require(Encoding.unbase64("cHJvdmlkZXItc3BlYy10ZXN0LXNlY3JldC0zMmJ5dGU="))
        let body = #"{"type":"email.delivered","created_at":"2023-11-14T22:13:20.000Z","data":{"email_id":"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee","to":["to@example.org"]}}"#
        let mac = Digest.hmacSHA256(key: key, Array("msg_2W2D3qXLS5fOaPja1GDg7rF2CwB.1700000000.\(body)".utf8))
        #expect(Encoding.base64(mac) == "WCm4fKn514tfH8Txuc4Q6bG7qQM2oAiaLR8Q7sf49gs=")
    }

    @Test("constant-time equality and hex round trips")
    func helpers() {
        #expect(Digest.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!Digest.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!Digest.constantTimeEqual([1, 2], [1, 2, 3]))
        #expect(Encoding.unhex("00ff7A") == [0, 255, 122])
        #expect(Encoding.unhex("0g") == nil && Encoding.unhex("abc") == nil)
        #expect(Digest.sha256([]).count == 32)
    }

    @Test("config validation names the key and the rule")
    func configValidation() throws {
        let keys = [ConfigKey("url", .url, required: true, description: "u"), ConfigKey("tags", .stringList, description: "t"),
                    ConfigKey("mode", description: "m", default: "fast")]
        let ok = try PluginConfiguration(validating: [KeyValue("url", "https://x.org"), KeyValue("tags", #"["a"]"#)], against: keys)
        #expect(ok["mode"] == "fast" && ok.stringList("tags") == ["a"])
        let cases: [([KeyValue], String)] = [
            ([], "config.url"),
            ([KeyValue("url", "not a url")], "config.url"),
            ([KeyValue("url", "https://x.org"), KeyValue("tags", "[1]")], "config.tags"),
            ([KeyValue("url", "https://x.org"), KeyValue("nope", "1")], "config.nope"),
        ]
        for (entries, field) in cases {
            let failure = #expect(throws: PluginFailure.self) { try PluginConfiguration(validating: entries, against: keys) }
            #expect(failure?.field == field)
        }
    }
}
