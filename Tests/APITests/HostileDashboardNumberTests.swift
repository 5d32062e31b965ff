import Testing

/// The dashboard's forms and links carry numbers into the API: each hostile one comes back as the
/// form with the API's error (a 4xx naming the field), never a 500 or a trap.
@Suite("Hostile numbers in dashboard forms")
struct HostileDashboardNumberTests {
    @Test("a send-config rateLimit of INT64_MIN, 30 digits, 1e30 or 0.5 is the form again with a 422; odd days and positions are no 500")
    func forms() async throws {
        let harness = try APIHarness()
        try await WebDashboardTests.run(harness) { client in
            let ann = try await Browser.registered(client, "ann@example.com")
            let token = try await ann.csrf("/send-configs")
            for value in ["-9223372036854775808", "9223372036854775807", "9223372036854775808", "123456789012345678901234567890", "1e30", "0.5", "-1"] {
                let answer = try await ann.post("/send-configs", ["_csrf": token, "provider": "resend", "name": "main",
                                                                  "cred.api_key": "re_test_0123456789abcdef", "rateLimit": value])
                #expect(answer.status == 422 && answer.text.contains("rateLimit"), "rateLimit \(value): \(answer.status) \(answer.text.prefix(300))")
            }
            for days in ["-9223372036854775808", "123456789012345678901234567890", "1e30"] {
                let page = try await ann.request(.get, "/analytics?days=\(days)")
                #expect(page.status < 500, "days=\(days): \(page.status)")
            }
            for position in ["-9223372036854775808", "123456789012345678901234567890", "0"] {
                let page = try await ann.request(.get, "/batches/00000000-0000-0000-0000-000000000000/recipients/\(position)")
                #expect(page.status == 404, "position \(position): \(page.status)")
            }
        }
    }
}
