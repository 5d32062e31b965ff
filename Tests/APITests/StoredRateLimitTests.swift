import ProviderModel
@testable import SenderAPI
import Testing

/// A send-config's stored rate limit, read back for a PATCH that merges into it.
@Suite("Send-configs: the stored rate limit")
struct StoredRateLimitTests {
    static func stored(_ limit: JSONValue?) -> Int? {
        var row: [String: JSONValue] = ["name": .string("n"), "provider": .string("resend")]
        row["rateLimit"] = limit
        return SendConfigInput(stored: .object(row), credentials: [:]).rateLimit
    }

    @Test("a stored limit outside 1...1,000,000 is held to the nearest bound, never dropped to unlimited or a trap",
          arguments: [(5_000_000.0, 1_000_000), (1e300, 1_000_000), (9.3e18, 1_000_000), (0.0, 1), (-1e30, 1), (250.0, 250), (7.9, 7)])
    func outOfRangeIsClamped(_ value: Double, _ expected: Int) {
        #expect(Self.stored(.number(value)) == expected)
    }

    @Test("no stored limit stays unlimited")
    func absentIsUnlimited() {
        #expect(Self.stored(nil) == nil)
        #expect(Self.stored(.null) == nil)
    }
}
