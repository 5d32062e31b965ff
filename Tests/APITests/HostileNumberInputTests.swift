import HostCore
import ProviderModel
import Testing

/// Numbers and dates an attacker puts in query strings, paths and JSON bodies: each a 422 (or the
/// documented 404) naming the field, never a 500, a trap or a value that wrapped around.
@Suite("Hostile numbers in API requests")
struct HostileNumberInputTests {
    static let hostile = ["-9223372036854775808", "9223372036854775807", "9223372036854775808", "123456789012345678901234567890",
                          "-1", "0", "1.5", "1e3", "+5", "%205", "5%00", "", "0x10", String(repeating: "9", count: 4_000)]

    @Test("?limit= of INT64_MIN, INT64_MAX, 30 digits, signs, fractions, NUL or empty is 422 query.limit on every listing")
    func limit() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            let config = try await api.sendConfig(key)
            let batch = try await api.draftBatch(key, config: config, recipients: #"["a@x.com"]"#)
            for list in ["/api/batches", "/api/batches/\(batch)/recipients", "/api/suppressions"] {
                for value in Self.hostile {
                    let answer = try await api.call(.get, "\(list)?limit=\(value)", key: key)
                    #expect(answer.status == 422 && answer.errorField == "query.limit", "\(list) limit=\(value.prefix(30)): \(answer.status) \(answer.text.prefix(200))")
                }
                #expect(try await api.call(.get, "\(list)?limit=1", key: key).status == 200)
            }
        }
    }

    @Test("a recipients cursor or position of INT64_MIN, 30 digits, a sign or a fraction is 422 query.cursor or 404 path.position")
    func recipientCursorAndPosition() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            let config = try await api.sendConfig(key)
            let batch = try await api.draftBatch(key, config: config, recipients: #"["a@x.com","b@x.com"]"#)
            for value in Self.hostile where value != "0" && value != "9223372036854775807" {
                let page = try await api.call(.get, "/api/batches/\(batch)/recipients?cursor=\(value)", key: key)
                #expect(page.status == 422 && page.errorField == "query.cursor", "cursor=\(value.prefix(30)): \(page.status) \(page.text.prefix(200))")
            }
            // The widest cursor is past every position: an empty page, not an error.
            let end = try await api.call(.get, "/api/batches/\(batch)/recipients?cursor=9223372036854775807", key: key)
            #expect(end.status == 200 && end["data"]?.array.isEmpty == true, "\(end.text)")
            #expect(try await api.call(.get, "/api/batches/\(batch)/recipients?cursor=0", key: key)["data"]?.array.count == 2)
            for value in Self.hostile where !value.isEmpty {
                let events = try await api.call(.get, "/api/batches/\(batch)/recipients/\(value)/events", key: key)
                #expect(events.status == 404 && events.errorField == "path.position", "position \(value.prefix(30)): \(events.status) \(events.text.prefix(200))")
            }
        }
    }

    @Test("a JSON integer of 1e30, 30 digits, INT64_MIN, -0.5 or 2^63 is 422 naming the member, never a trap")
    func jsonIntegers() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            for value in ["1e30", "-1e30", "123456789012345678901234567890", "-9223372036854775808", "9223372036854775808",
                          "9.3e18", "0.5", "-0.5", "0", "1000001", "1e308", "\"5\""] {
                let body = #"{"name":"n","provider":"resend","credentials":{"api_key":"re_x"},"rateLimit":\#(value)}"#
                let answer = try await api.call(.post, "/api/send-configs", key: key, json: body)
                #expect(answer.status == 422 && answer.errorField == "rateLimit", "rateLimit \(value): \(answer.status) \(answer.text.prefix(200))")
            }
            let config = try await api.sendConfig(key)
            for value in ["1e30", "-9223372036854775808", "0.5"] {
                let answer = try await api.call(.patch, "/api/send-configs/\(config)", key: key, json: #"{"rateLimit":\#(value)}"#)
                #expect(answer.status == 422 && answer.errorField == "rateLimit", "PATCH rateLimit \(value): \(answer.text.prefix(200))")
            }
            // A number too large for JSON's doubles is a 400 naming the body, not an infinity stored.
            let huge = try await api.call(.post, "/api/send-configs", key: key, json: #"{"name":"n","provider":"resend","rateLimit":1e400}"#)
            #expect(huge.status == 400 && huge.errorField == "body", "\(huge.text.prefix(200))")
        }
    }

    @Test("a scheduledAt in year 0, 10000, negative or before 1970 is 422 naming it")
    func dates() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            let config = try await api.sendConfig(key)
            for date in ["0000-01-01T00:00:00Z", "10000-01-01T00:00:00Z", "-0001-01-01T00:00:00Z", "1969-12-31T23:59:59Z",
                         "9223372036854775807", "2026-02-30T00:00:00Z"] {
                let batch = try await api.call(.post, "/api/batches", key: key, json: """
                    {"name":"n","sendConfigId":"\(config)","payload":{"subject":"s","text":"t"},"scheduledAt":"\(date)"}
                    """)
                #expect(batch.status == 422 && batch.errorField == "scheduledAt", "scheduledAt \(date): \(batch.status) \(batch.text.prefix(200))")
            }
        }
    }
}
