import HostCore
import Testing
@testable import SenderAPI
import ProviderModel

@Suite("Suppressions, tenant isolation and rate limits")
struct SuppressionAndIsolationTests {
    @Test("suppressions are added (201, then 200), listed in pages and removed")
    func suppressions() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            #expect(try await api.call(.post, "/api/suppressions", key: key, json: #"{"address":"a@x.com"}"#).status == 201)
            let again = try await api.call(.post, "/api/suppressions", key: key, json: #"{"address":"A@X.com","reason":"complaint"}"#)
            #expect(again.status == 200)
            #expect(again["reason"] == .string("complaint"))
            #expect(try await api.call(.post, "/api/suppressions", key: key, json: #"{"address":"+15550001111"}"#).status == 201)
            #expect(try await api.call(.post, "/api/suppressions", key: key, json: #"{"address":"nope"}"#).errorField == "address")
            #expect(try await api.call(.post, "/api/suppressions", key: key, json: #"{"address":"a@x.com","reason":"whim"}"#).errorField == "reason")
            let page = try await api.call(.get, "/api/suppressions?limit=1", key: key)
            #expect(page["data"]?.array.count == 1)
            let cursor = try #require(page["nextCursor"]?.stringValue)
            #expect(try await api.call(.get, "/api/suppressions?limit=1&cursor=\(cursor)", key: key)["data"]?.array.count == 1)
            #expect(try await api.call(.delete, "/api/suppressions?address=a%40x.com", key: key).status == 204)
            #expect(try await api.call(.delete, "/api/suppressions?address=a%40x.com", key: key).status == 404)
            #expect(try await api.call(.delete, "/api/suppressions", key: key).errorField == "query.address")
        }
    }

    @Test("one user's key gets 404 on everything of another's, and sees none of it in listings")
    func isolation() async throws {
        let harness = try APIHarness()
        let ann = try harness.key(for: "ann@example.com"), bob = try harness.key(for: "bob@example.com")
        try await harness.run { api in
            let config = try await api.sendConfig(ann)
            let batch = try await api.draftBatch(ann, config: config, recipients: #"["a@x.com"]"#)
            let annKeys = try await api.call(.get, "/api/api-keys", key: ann)
            let annKey = try #require(annKeys["data"]?.array.first?["id"]?.stringValue)
            _ = try await api.call(.post, "/api/suppressions", key: ann, json: #"{"address":"s@x.com"}"#)

            for (method, uri, body) in [
                (.get, "/api/send-configs/\(config)", nil), (.patch, "/api/send-configs/\(config)", #"{"name":"mine"}"#),
                (.delete, "/api/send-configs/\(config)", nil), (.get, "/api/batches/\(batch)", nil),
                (.get, "/api/batches/\(batch)/recipients", nil), (.post, "/api/batches/\(batch)/recipients", #"["b@x.com"]"#),
                (.post, "/api/batches/\(batch)/send", nil), (.post, "/api/batches/\(batch)/cancel", nil),
                (.post, "/api/batches/\(batch)/pause", nil), (.post, "/api/batches/\(batch)/resume", nil),
                (.post, "/api/batches/\(batch)/retry-failed", nil), (.delete, "/api/batches/\(batch)", nil),
                (.delete, "/api/api-keys/\(annKey)", nil), (.delete, "/api/suppressions?address=s%40x.com", nil),
            ] as [(HTTPRequestMethod, String, String?)] {
                let answer = try await api.call(method.method, uri, key: bob, json: body)
                #expect(answer.status == 404, "\(method) \(uri): \(answer.text)")
            }
            let stolen = try await api.call(.post, "/api/batches", key: bob, json: """
                {"name":"x","sendConfigId":"\(config)","payload":{"subject":"s","text":"t"}}
                """)
            #expect(stolen.errorField == "sendConfigId", "another user's send-config cannot be used")
            for list in ["/api/send-configs", "/api/batches", "/api/suppressions"] {
                #expect(try await api.call(.get, list, key: bob)["data"]?.array.isEmpty == true, "\(list)")
            }
            #expect(try await api.call(.get, "/api/api-keys", key: bob)["data"]?.array.count == 1)
            // Ann's objects are untouched.
            #expect(try await api.call(.get, "/api/batches/\(batch)", key: ann)["status"] == .string("draft"))
            #expect(try await api.addresses(ann, batch: batch) == ["a@x.com"])
        }
    }

    @Test("past the per-key window: 429 with Retry-After, the error shape and RateLimit headers")
    func perKey() async throws {
        let harness = try APIHarness { $0.rateLimit = .init(perKey: 3, perAddress: 1_000, windowMilliseconds: 30_000) }
        let ann = try harness.key(for: "ann@example.com"), bob = try harness.key(for: "bob@example.com")
        try await harness.run { api in
            for remaining in [2, 1, 0] {
                let answer = try await api.call(.get, "/api/batches", key: ann)
                #expect(answer.status == 200)
                #expect(answer.headers[.init("RateLimit-Remaining")!] == String(remaining))
            }
            let limited = try await api.call(.get, "/api/batches", key: ann)
            #expect(limited.status == 429)
            #expect(limited.errorCode == "rate_limited")
            let retry = try #require(limited.headers[.retryAfter].flatMap { Int($0) })
            #expect((1...30).contains(retry))
            #expect(try await api.call(.get, "/api/batches", key: bob).status == 200, "another key has its own window")
        }
    }

    @Test("past the per-address window: 429 before the key is even checked")
    func perAddress() async throws {
        let harness = try APIHarness { $0.rateLimit = .init(perKey: 1_000, perAddress: 2, windowMilliseconds: 30_000) }
        try await harness.run { api in
            #expect(try await api.call(.get, "/api/batches").status == 401)
            #expect(try await api.call(.get, "/api/batches").status == 401)
            let limited = try await api.call(.get, "/api/batches")
            #expect(limited.status == 429)
            #expect(limited.headers[.retryAfter] != nil)
        }
    }
}

/// HTTPRequest.Method by name, for tables of requests.
enum HTTPRequestMethod: CustomStringConvertible {
    case get, post, patch, delete
    var method: HTTPRequest.Method {
        switch self {
        case .get: .get
        case .post: .post
        case .patch: .patch
        case .delete: .delete
        }
    }
    var description: String { method.rawValue }
}

import HTTPTypes

@Suite("Client address behind proxies")
struct ClientAddressTests {
    static let proxies = [IPNetwork("10.0.0.0/8")!, IPNetwork("fd00::/8")!]

    @Test("X-Forwarded-For is believed only from trusted proxies, and only back to the first hop they do not control")
    func forwardedFor() {
        typealias M = ClientAddress
        #expect(M.client(peer: "203.0.113.9", forwardedFor: ["198.51.100.1"], trusting: []) == "203.0.113.9", "no proxies: the peer")
        #expect(M.client(peer: "203.0.113.9", forwardedFor: ["198.51.100.1"], trusting: Self.proxies) == "203.0.113.9",
                "an untrusted peer's header is ignored")
        #expect(M.client(peer: "10.0.0.5", forwardedFor: ["198.51.100.1"], trusting: Self.proxies) == "198.51.100.1")
        #expect(M.client(peer: "10.0.0.5", forwardedFor: ["1.1.1.1", "198.51.100.1", "10.0.0.7"], trusting: Self.proxies) == "198.51.100.1",
                "a client's own forged entries before the first untrusted hop are not believed")
        #expect(M.client(peer: "10.0.0.5", forwardedFor: ["not-an-address"], trusting: Self.proxies) == "10.0.0.5")
        #expect(M.client(peer: "fd00::2", forwardedFor: ["2001:db8::1"], trusting: Self.proxies) == "2001:db8::1")
        #expect(M.client(peer: nil, forwardedFor: ["198.51.100.1"], trusting: Self.proxies) == "local")
    }
}
