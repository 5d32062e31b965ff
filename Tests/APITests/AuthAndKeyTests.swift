import ProviderCrypto
import Testing
import ProviderModel

@Suite("API keys and authentication")
struct AuthAndKeyTests {
    @Test("no key, another scheme, a malformed key and an unknown key are 401 naming the Authorization header")
    func refusals() async throws {
        let harness = try APIHarness()
        try await harness.run { api in
            let unknown = "bsk_" + String(repeating: "A", count: 43)
            for authorization in [nil, "Basic YW5uOnB3", "Bearer bsk_short", "Bearer \(unknown)"] {
                let answer = try await api.call(.get, "/api/batches", authorization: authorization)
                #expect(answer.status == 401, "\(authorization ?? "none")")
                #expect(answer.errorCode == "unauthorized")
                #expect(answer.errorField == "Authorization")
            }
        }
    }

    @Test("a second key for rotation: listed without its secret, usable, and refused once revoked")
    func rotation() async throws {
        let harness = try APIHarness()
        let first = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            let created = try await api.call(.post, "/api/api-keys", key: first, json: #"{"name":"ci"}"#)
            #expect(created.status == 201)
            let second = try #require(created["key"]?.stringValue)
            #expect(second.hasPrefix("bsk_"))
            #expect(created["prefix"]?.stringValue == String(second.prefix(12)))
            let listed = try await api.call(.get, "/api/api-keys", key: second)
            #expect(listed.status == 200)
            #expect(listed["data"]?.array.count == 2)
            #expect(!listed.text.contains(second), "a listing never shows a key")
            let id = try #require(created["id"]?.stringValue)
            #expect(try await api.call(.delete, "/api/api-keys/\(id)", key: first).status == 204)
            let refused = try await api.call(.get, "/api/batches", key: second)
            #expect(refused.status == 401)
            #expect(try await api.call(.delete, "/api/api-keys/\(id)", key: first).status == 404, "revoking twice finds nothing live")
            #expect(try await api.call(.post, "/api/api-keys", key: first, json: #"{"name":7}"#).errorField == "name")
        }
    }

    @Test("the key's hash, not the key, is stored")
    func storedHashed() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "bob@example.com")
        let rows = try harness.connection().query("SELECT key_hash::text, prefix FROM api_keys")
        #expect(rows.count == 1)
        // bytea as text is \x and hex: the key's SHA-256, and nothing of the key itself.
        #expect(rows[0][0] == "\\x" + Encoding.hex(Digest.sha256(Array(key.utf8))))
        #expect(rows[0][0]?.contains(Encoding.hex(Array(key.utf8)).prefix(16)) == false && rows[0][0]?.contains(key) == false)
        #expect(rows[0][1] == String(key.prefix(12)))
        try await harness.finish()
    }
}
