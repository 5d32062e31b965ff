import ProviderModel

/// An SNS HTTP(S) delivery (docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html):
/// the JSON envelope and the rules its signature is checked by.
struct SNSMessage {
    enum Kind: String {
        case notification = "Notification"
        case subscriptionConfirmation = "SubscriptionConfirmation"
        case unsubscribeConfirmation = "UnsubscribeConfirmation"
    }

    let kind: Kind
    let fields: [String: String]

    var messageId: String { fields["MessageId"] ?? "" }
    var topicArn: String { fields["TopicArn"] ?? "" }
    var message: String { fields["Message"] ?? "" }

    /// The envelope of a body; `.malformed` naming the field when it is not one.
    init(body: [UInt8]) throws(PluginFailure) {
        guard let document = JSONValue.parse(body), case .object(let object) = document else {
            throw PluginFailure(.malformed, field: "body", "not an SNS message: expected a JSON object")
        }
        guard let type = object["Type"]?.stringValue else {
            throw PluginFailure(.malformed, field: "body.Type", "missing: not an SNS message")
        }
        guard let kind = Kind(rawValue: type) else {
            throw PluginFailure(.malformed, field: "body.Type", "\"\(type.prefix(40))\" is not an SNS message type")
        }
        var fields: [String: String] = [:]
        for (key, value) in object {
            if let text = value.stringValue { fields[key] = text }
        }
        for required in ["MessageId", "TopicArn", "Message", "Timestamp"] where fields[required] == nil {
            throw PluginFailure(.malformed, field: "body.\(required)", "missing from the SNS \(type)")
        }
        _ = try EventTimestamp.iso8601(fields["Timestamp"], field: "body.Timestamp")
        self.kind = kind
        self.fields = fields
    }

    /// `Key\nValue\n` for each signed key present, in the documented order.
    var stringToSign: [UInt8] {
        let keys = kind == .notification
            ? ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
            : ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
        var out: [UInt8] = []
        for key in keys {
            guard let value = fields[key] else { continue }
            out.append(contentsOf: key.utf8)
            out.append(0x0a)
            out.append(contentsOf: value.utf8)
            out.append(0x0a)
        }
        return out
    }

    /// AWS's validators' rule: https, a host `sns.<region>.amazonaws.com(.cn)`, no port, and the whole URL ending `.pem`.
    static func isSigningCertificateURL(_ url: String) -> Bool {
        guard url.hasPrefix("https://"), url.hasSuffix(".pem") else { return false }
        let rest = url.dropFirst("https://".count)
        guard let slash = rest.firstIndex(of: "/") else { return false }
        let host = rest[..<slash].lowercased()
        let suffix = host.hasSuffix(".amazonaws.com.cn") ? ".amazonaws.com.cn" : ".amazonaws.com"
        guard host.hasPrefix("sns."), host.hasSuffix(suffix) else { return false }
        let region = host.dropFirst(4).dropLast(suffix.count)
        return region.utf8.count >= 3 && region.utf8.allSatisfy { (48...57).contains($0) || (97...122).contains($0) || $0 == UInt8(ascii: "-") }
            && !url.contains("?") && !url.contains("#")
    }

    /// `arn:aws[-cn|-us-gov]:sns:REGION:ACCOUNT:NAME`.
    static func isTopicArn(_ arn: String) -> Bool {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count == 6 && parts[0] == "arn" && parts[1].hasPrefix("aws") && parts[2] == "sns"
            && !parts[3].isEmpty && parts[4].utf8.count == 12 && parts[4].utf8.allSatisfy({ (48...57).contains($0) })
            && !parts[5].isEmpty
    }
}
