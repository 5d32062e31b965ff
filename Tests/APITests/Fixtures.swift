import ProviderModel
import Testing

/// Objects most tests need: a Resend send-config and a draft batch on it.
extension APIClient {
    static let resendConfig = """
        {"name":"newsletter","provider":"resend","credentials":{"api_key":"re_live_0123456789abcdef","base_url":"http://127.0.0.1:6100"},
         "defaults":{"from":"news@example.com"},"rateLimit":50}
        """

    static let telnyxConfig = """
        {"name":"sms","provider":"telnyx","credentials":{"api_key":"KEY0123","public_key":"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="},"defaults":{"from":"+15550001111"}}
        """

    func sendConfig(_ key: String, body: String = APIClient.resendConfig) async throws -> String {
        let answer = try await call(.post, "/api/send-configs", key: key, json: body)
        #expect(answer.status == 201, "\(answer.text)")
        return try #require(answer["id"]?.stringValue)
    }

    func draftBatch(_ key: String, config: String, recipients: String? = nil) async throws -> String {
        let inline = recipients.map { ",\"recipients\":\($0)" } ?? ""
        let answer = try await call(.post, "/api/batches", key: key, json: """
            {"name":"launch","sendConfigId":"\(config)","payload":{"subject":"Hello {{name}}","html":"<p>Hi {{name}}</p>"}\(inline)}
            """)
        #expect(answer.status == 201, "\(answer.text)")
        return try #require(answer["id"]?.stringValue)
    }

    func counts(_ key: String, batch: String) async throws -> JSONValue {
        let answer = try await call(.get, "/api/batches/\(batch)", key: key)
        #expect(answer.status == 200)
        return answer["counts"] ?? .null
    }

    func addresses(_ key: String, batch: String) async throws -> [String] {
        let answer = try await call(.get, "/api/batches/\(batch)/recipients?limit=1000", key: key)
        return answer["data"]?.array.compactMap { $0["address"]?.stringValue } ?? []
    }
}
