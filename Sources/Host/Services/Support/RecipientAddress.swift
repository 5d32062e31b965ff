import ProviderModel

/// A recipient's address checked for its channel and put in one canonical form,
/// so that `Ann@Example.com` and `ann@example.com` count as the same recipient.
package enum RecipientAddress {
    /// The canonical address, or why `raw` is not one.
    package static func normalize(_ raw: String, channel: Channel) -> Result<String, Problem> {
        let text = raw.trimmingWhitespace()
        guard !text.isEmpty else { return .failure(Problem("is empty")) }
        switch channel {
        case .email:
            guard !text.contains("<"), EmailAddress.bare(text) != nil else {
                return .failure(Problem("\"\(text.prefix(80))\" is not an email address"))
            }
            return .success(text.lowercased())
        case .sms:
            let compact = String(text.filter { $0 != " " && $0 != "-" && $0 != "(" && $0 != ")" })
            guard PhoneNumber.isE164(compact) else {
                return .failure(Problem("\"\(text.prefix(80))\" is not an E.164 phone number (+ then country code and number)"))
            }
            return .success(compact)
        case .webhook:
            guard text.utf8.count <= 320, !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else {
                return .failure(Problem("must be at most 320 bytes without control characters"))
            }
            return .success(text)
        }
    }

    /// A sender (`from`, `replyTo`) as the channel's providers accept it.
    package static func checkSender(_ value: String, channel: Channel, field: String) throws(APIError) {
        switch channel {
        case .email:
            guard EmailAddress.bare(value) != nil else { throw APIError.invalid(field, "\"\(value.prefix(80))\" is not an email address") }
        case .sms:
            guard PhoneNumber.isE164(value) || PhoneNumber.isShortCode(value) || PhoneNumber.isAlphanumericSender(value) else {
                throw APIError.invalid(field, "must be an E.164 number, a short code or an alphanumeric sender id")
            }
        case .webhook:
            guard !value.isEmpty else { throw APIError.invalid(field, "must not be empty") }
        }
    }

    package struct Problem: Error {
        package var reason: String
        package init(_ reason: String) { self.reason = reason }
    }
}

extension String {
    package func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }
}
