import Foundation
import Analytics
import Domain
import HostCore
import Messaging
import Persistence
import ProviderCrypto
import ProviderInstances
import ProviderModel
import Testing
@testable import SenderAPI

@Suite("Send-configs: checked against the plugins, credentials sealed and masked")
struct SendConfigTests {
    @Test("a Resend config is created with its secret masked, listed, shown, changed and deleted")
    func lifecycle() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            let created = try await api.call(.post, "/api/send-configs", key: key, json: APIClient.resendConfig)
            #expect(created.status == 201, "\(created.text)")
            #expect(created["credentials"]?["api_key"] == .string("••••cdef"))
            #expect(created["credentials"]?["base_url"] == .string("http://127.0.0.1:6100"), "non-secret keys are shown")
            #expect(created["channel"] == .string("email"))
            #expect(created["mode"] == .string("byok"))
            #expect(!created.text.contains("re_live_0123456789abcdef"))
            let id = try #require(created["id"]?.stringValue)
            #expect(try await api.call(.get, "/api/send-configs", key: key)["data"]?.array.count == 1)
            #expect(try await api.call(.get, "/api/send-configs/\(id)", key: key)["name"] == .string("newsletter"))

            // Credentials merge: the new secret replaces the old, the rest stays.
            let patched = try await api.call(.patch, "/api/send-configs/\(id)", key: key,
                                             json: #"{"name":"renamed","credentials":{"api_key":"re_rotated_99999999wxyz"}}"#)
            #expect(patched.status == 200, "\(patched.text)")
            #expect(patched["name"] == .string("renamed"))
            #expect(patched["credentials"]?["api_key"] == .string("••••wxyz"))
            #expect(patched["credentials"]?["base_url"] == .string("http://127.0.0.1:6100"))
            let fixed = try await api.call(.patch, "/api/send-configs/\(id)", key: key, json: #"{"provider":"ses"}"#)
            #expect(fixed.status == 422)
            #expect(fixed.errorField == "provider")
            let removedRequired = try await api.call(.patch, "/api/send-configs/\(id)", key: key, json: #"{"credentials":{"api_key":null}}"#)
            #expect(removedRequired.errorField == "credentials.api_key")

            #expect(try await api.call(.delete, "/api/send-configs/\(id)", key: key).status == 204)
            #expect(try await api.call(.get, "/api/send-configs/\(id)", key: key).status == 404)
            #expect(try await api.call(.post, "/api/send-configs", key: key, json: APIClient.resendConfig).status == 201,
                    "a deleted config's name is free again")
        }
    }

    @Test("fallbacks: another of the caller's live configs on the same channel, named in order, shown, replaced, and dropped when deleted; anything else is refused naming fallbacks[i]")
    func fallbacks() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        let other = try harness.key(for: "bob@example.com")
        try await harness.run { api in
            func config(_ name: String, key: String = key) async throws -> String {
                try await api.sendConfig(key, body: APIClient.resendConfig.replacingOccurrences(of: "\"newsletter\"", with: "\"\(name)\""))
            }
            let primary = try await config("primary"), first = try await config("first"), second = try await config("second")
            let sms = try await api.sendConfig(key, body: APIClient.telnyxConfig)
            let bobs = try await config("bob's", key: other)
            let set = try await api.call(.patch, "/api/send-configs/\(primary)", key: key, json: #"{"fallbacks":["\#(first)","\#(second.uppercased())"]}"#)
            #expect(set.status == 200, "\(set.text)")
            #expect(set["fallbacks"] == .array([.string(first), .string(second)]), "stored in order, ids in lower case")
            #expect(try await api.call(.get, "/api/send-configs/\(primary)", key: key)["fallbacks"] == .array([.string(first), .string(second)]))
            let created = try await api.call(.post, "/api/send-configs", key: key,
                                             json: #"{"name":"with","provider":"resend","credentials":{"api_key":"re_1234"},"fallbacks":["\#(first)"]}"#)
            #expect(created.status == 201 && created["fallbacks"] == .array([.string(first)]), "\(created.text)")

            let refusals = [(#"{"fallbacks":["\#(primary)"]}"#, "fallbacks[0]"), (#"{"fallbacks":["\#(first)","\#(sms)"]}"#, "fallbacks[1]"),
                            (#"{"fallbacks":["\#(bobs)"]}"#, "fallbacks[0]"), (#"{"fallbacks":["\#(first)","\#(first)"]}"#, "fallbacks[1]"),
                            (#"{"fallbacks":["not-an-id"]}"#, "fallbacks[0]"), (#"{"fallbacks":"\#(first)"}"#, "fallbacks"),
                            (#"{"fallbacks":["\#(UUID().uuidString)"]}"#, "fallbacks[0]"),
                            (#"{"fallbacks":["\#(first)","\#(second)","\#(UUID().uuidString)","\#(UUID().uuidString)"]}"#, "fallbacks")]
            for (body, field) in refusals {
                let refused = try await api.call(.patch, "/api/send-configs/\(primary)", key: key, json: body)
                #expect(refused.status == 422 && refused.errorField == field, "\(body): \(refused.text)")
            }
            #expect(try await api.call(.get, "/api/send-configs/\(primary)", key: key)["fallbacks"] == .array([.string(first), .string(second)]),
                    "a refused change stores nothing")
            #expect(try await api.call(.patch, "/api/send-configs/\(primary)", key: key, json: #"{"name":"renamed"}"#)["fallbacks"]
                    == .array([.string(first), .string(second)]), "a PATCH without fallbacks keeps them")

            #expect(try await api.call(.delete, "/api/send-configs/\(first)", key: key).status == 204)
            #expect(try await api.call(.get, "/api/send-configs/\(primary)", key: key)["fallbacks"] == .array([.string(second)]),
                    "a deleted config no longer stands in")
            #expect(try await api.call(.patch, "/api/send-configs/\(primary)", key: key, json: #"{"fallbacks":null}"#)["fallbacks"] == .array([]))

            // A batch's history starts empty; another user's batch is not found.
            let batch = try await api.draftBatch(key, config: primary)
            let history = try await api.call(.get, "/api/batches/\(batch)/events", key: key)
            #expect(history.status == 200 && history["data"] == .array([]), "\(history.text)")
            #expect(try await api.call(.get, "/api/batches/\(batch)/events", key: other).status == 404)
        }
    }

    @Test("bad input is refused naming the field", arguments: [
        (#"{"name":"x","provider":"mailchimp","credentials":{}}"#, 422, "provider"),
        (#"{"name":"x","provider":"resend","credentials":{}}"#, 422, "credentials.api_key"),
        (#"{"name":"x","provider":"resend","credentials":{"api_key":"re_1","colour":"red"}}"#, 422, "credentials.colour"),
        (#"{"name":"x","provider":"resend","credentials":{"api_key":"re_1","base_url":"ftp://x"}}"#, 422, "credentials.base_url"),
        (#"{"name":"x","provider":"resend","mode":"managed"}"#, 403, "mode"),
        (#"{"name":"x","provider":"resend","mode":"shared","credentials":{"api_key":"re_1"}}"#, 422, "mode"),
        (#"{"name":"x","provider":"echo","credentials":{"url":"http://127.0.0.1:1/","secret":"s"}}"#, 422, "channel"),
        (#"{"name":"x","provider":"telnyx","channel":"email","credentials":{"api_key":"K","public_key":"p"}}"#, 422, "channel"),
        (#"{"name":"x","provider":"resend","credentials":{"api_key":"re_1"},"defaults":{"from":"not-an-address"}}"#, 422, "defaults.from"),
        (#"{"name":"x","provider":"resend","credentials":{"api_key":"re_1"},"rateLimit":0}"#, 422, "rateLimit"),
        (#"{"name":"x","provider":"resend","credentials":{"api_key":"re_1"},"colour":1}"#, 422, "colour"),
        (#"{"name":"","provider":"resend","credentials":{"api_key":"re_1"}}"#, 422, "name"),
        (#"{"name":"x","provider":"resend","#, 400, "body"),
        (#"[1,2]"#, 422, "body"),
    ])
    func badInput(body: String, status: Int, field: String) async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            let answer = try await api.call(.post, "/api/send-configs", key: key, json: body)
            #expect(answer.status == status, "\(answer.text)")
            #expect(answer.errorField == field, "\(answer.text)")
            #expect(answer["error"]?["message"]?.stringValue?.isEmpty == false)
            #expect(try await api.call(.get, "/api/send-configs", key: key)["data"]?.array.isEmpty == true, "nothing stored")
        }
    }

    @Test("URL options the senders could not reach under the deployment's outbound policy, and test-only options, are refused naming the key", arguments: [
        (#"{"name":"x","provider":"resend","credentials":{"api_key":"re_1","base_url":"http://api.example.com"}}"#, "credentials.base_url", "https"),
        (#"{"name":"x","provider":"resend","credentials":{"api_key":"re_1","base_url":"https://10.0.0.7/"}}"#, "credentials.base_url", "private"),
        (#"{"name":"x","provider":"resend","credentials":{"api_key":"re_1","base_url":"https://169.254.169.254/"}}"#, "credentials.base_url", "metadata"),
        (#"{"name":"x","provider":"resend","credentials":{"api_key":"re_1","base_url":"https://[::1]:8443"}}"#, "credentials.base_url", "loopback"),
        (#"{"name":"x","provider":"custom-webhook","credentials":{"url":"https://127.0.0.1/hook","secret":"s"}}"#, "credentials.url", "loopback"),
        (#"{"name":"x","provider":"ses","credentials":{"access_key_id":"AKIA0","secret_access_key":"s","region":"eu-west-1","insecure_test_cert_url_prefix":"http://evil/"}}"#,
         "credentials.insecure_test_cert_url_prefix", "test-only"),
    ])
    func outboundRefusals(body: String, field: String, reason: String) async throws {
        let harness = try APIHarness { $0.outbound = OutboundPolicy() }
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            let answer = try await api.call(.post, "/api/send-configs", key: key, json: body)
            #expect(answer.status == 422 && answer.errorField == field, "\(answer.text)")
            #expect(answer["error"]?["message"]?.stringValue?.contains(reason) == true, "\(answer.text)")
            let reachable = try await api.call(.post, "/api/send-configs", key: key,
                                            json: #"{"name":"y","provider":"resend","credentials":{"api_key":"re_1","base_url":"https://api.example.com"}}"#)
            #expect(reachable.status == 201, "a public https URL is stored: \(reachable.text)")
        }
    }

    @Test("credentials the plugin's own create refuses are refused when stored, with its reason, on create and on change", arguments: [
        (#"{"name":"x","provider":"resend","credentials":{"api_key":"sk_not_resend"}}"#, "credentials.api_key", "re_"),
        (#"{"name":"x","provider":"telnyx","credentials":{"api_key":"KEY0123","public_key":"c2hvcnQ="}}"#, "credentials.public_key", "32-byte"),
        (#"{"name":"x","provider":"ses","credentials":{"access_key_id":"AKIA0","secret_access_key":"s","region":"mars-1"}}"#, "credentials.region", "region"),
    ])
    func pluginVerdict(body: String, field: String, reason: String) async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            let answer = try await api.call(.post, "/api/send-configs", key: key, json: body)
            #expect(answer.status == 422 && answer.errorField == field, "\(answer.text)")
            #expect(answer["error"]?["message"]?.stringValue?.contains(reason) == true, "\(answer.text)")
            #expect(try await api.call(.get, "/api/send-configs", key: key)["data"]?.array.isEmpty == true, "nothing stored")
            let config = try await api.sendConfig(key)
            let changed = try await api.call(.patch, "/api/send-configs/\(config)", key: key, json: #"{"credentials":{"api_key":"nope"}}"#)
            #expect(changed.status == 422 && changed.errorField == "credentials.api_key", "\(changed.text)")
        }
    }

    @Test("with [api] allow_test_options, a plugin's test-only option is stored")
    func testOptionsAllowed() async throws {
        let harness = try APIHarness { $0.allowTestOptions = true }
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            let answer = try await api.call(.post, "/api/send-configs", key: key, json: #"{"name":"x","provider":"ses","credentials":{"access_key_id":"AKIA0","secret_access_key":"s","region":"eu-west-1","insecure_test_cert_url_prefix":"http://127.0.0.1:1/sns/"}}"#)
            #expect(answer.status == 201, "\(answer.text)")
        }
    }

    @Test("a duplicate name is 409, another content type 415, a body over 1 MiB 413")
    func conflictsAndLimits() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            _ = try await api.sendConfig(key)
            let again = try await api.call(.post, "/api/send-configs", key: key, json: APIClient.resendConfig)
            #expect(again.status == 409)
            #expect(again.errorCode == "conflict")
            let form = try await api.call(.post, "/api/send-configs", key: key, contentType: "application/x-www-form-urlencoded", body: "name=x")
            #expect(form.status == 415)
            #expect(form.errorField == "Content-Type")
            let huge = #"{"name":"\#(String(repeating: "x", count: 1 << 20))"}"#
            let tooLarge = try await api.call(.post, "/api/send-configs", key: key, json: huge)
            #expect(tooLarge.status == 413, "\(tooLarge.text)")
        }
    }

    @Test("custom-webhook headers are secret: each value shown masked, kept by a change that leaves them out, replaced by one that sends them")
    func headersMasked() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            let created = try await api.call(.post, "/api/send-configs", key: key, json: Self.customWebhook(bearer: "Bearer sk_live_0123456789abcdefWXYZ"))
            #expect(created.status == 201, "\(created.text)")
            #expect(created["credentials"]?["headers"]?["Authorization"] == .string("••••WXYZ"), "\(created.text)")
            #expect(created["credentials"]?["headers"]?["x-tenant"] == .string("••••"))
            let id = try #require(created["id"]?.stringValue)
            for path in ["/api/send-configs", "/api/send-configs/\(id)"] {
                let shown = try await api.call(.get, path, key: key)
                #expect(shown.status == 200 && !shown.text.contains("sk_live") && !shown.text.contains("acme"), "\(path): \(shown.text)")
            }
            let renamed = try await api.call(.patch, "/api/send-configs/\(id)", key: key, json: #"{"name":"renamed"}"#)
            #expect(renamed.status == 200 && !renamed.text.contains("sk_live"), "\(renamed.text)")
            #expect(try Self.storedHeaders(harness)?["Authorization"] == .string("Bearer sk_live_0123456789abcdefWXYZ"), "kept when left out")
            let rotated = try await api.call(.patch, "/api/send-configs/\(id)", key: key,
                                             json: #"{"credentials":{"headers":{"Authorization":"Bearer sk_live_rotated0000001234"}}}"#)
            #expect(rotated["credentials"]?["headers"]?["Authorization"] == .string("••••1234"), "\(rotated.text)")
            #expect(try Self.storedHeaders(harness)?["Authorization"] == .string("Bearer sk_live_rotated0000001234"))
            // What GET showed, sent back whole: refused, and the stored secret is untouched.
            let echoed = try await api.call(.patch, "/api/send-configs/\(id)", key: key,
                                            json: #"{"credentials":{"headers":{"Authorization":"••••1234","x-tenant":"acme"}}}"#)
            #expect(echoed.status == 422 && echoed["error"]?["field"] == .string("credentials.headers.Authorization"), "\(echoed.text)")
            let echoedSecret = try await api.call(.patch, "/api/send-configs/\(id)", key: key, json: #"{"credentials":{"secret":"••••"}}"#)
            #expect(echoedSecret.status == 422 && echoedSecret["error"]?["field"] == .string("credentials.secret"), "\(echoedSecret.text)")
            #expect(try Self.storedHeaders(harness)?["Authorization"] == .string("Bearer sk_live_rotated0000001234"))
        }
    }

    /// A custom-webhook config whose extra headers carry a bearer token.
    static func customWebhook(bearer: String, name: String = "hook") -> String {
        #"{"name":"\#(name)","provider":"custom-webhook","credentials":{"url":"http://127.0.0.1:6200/hook","#
            + #""secret":"whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3","headers":{"Authorization":"\#(bearer)","x-tenant":"acme"}}}"#
    }

    /// The headers the vault holds for the one send-config of this test.
    static func storedHeaders(_ harness: APIHarness) throws -> [String: JSONValue]? {
        let row = try harness.connection().query("SELECT sealed_credentials::text, credentials_nonce::text FROM send_configs")[0]
        let vault = try CredentialVault(masterKey: APIHarness.masterKey)
        return try vault.open(ciphertextHex: row[0] ?? "", nonceHex: row[1] ?? "")["headers"]?.objectValue
    }

    @Test("the database holds only ciphertext: the secret is unreadable without the master key")
    func sealedAtRest() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            _ = try await api.sendConfig(key)
            try Self.checkSealed(try harness.connection().query("SELECT sealed_credentials, credentials_nonce FROM send_configs")[0])
        }
    }

    static func checkSealed(_ row: [String?]) throws {
        let sealedHex = try #require(row[0]), nonceHex = try #require(row[1])
        let sealed = try #require(Encoding.unhex(String(sealedHex.dropFirst(2))))
        let nonce = try #require(Encoding.unhex(String(nonceHex.dropFirst(2))))
        #expect(!String(decoding: sealed, as: UTF8.self).contains("re_live"))
        #expect(!sealedHex.contains(Encoding.hex(Array("re_live_0123456789abcdef".utf8))))
        #expect(SecretBox(key: [UInt8](repeating: 8, count: 32))!.open(sealed, nonce: nonce) == nil, "another key opens nothing")
        let opened = try #require(SecretBox(key: APIHarness.masterKey)!.open(sealed, nonce: nonce))
        #expect(JSONValue.parse(opened)?["api_key"] == .string("re_live_0123456789abcdef"))
    }
}
