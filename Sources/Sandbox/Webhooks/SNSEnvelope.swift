import ProviderCrypto
import ProviderModel

/// Wraps messages the way SNS delivers them over HTTP(S) and signs them with
/// the sandbox's own RSA key, whose certificate it serves at `certificateURL`
/// (docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html).
struct SNSEnvelope: Sendable {
    let key: RSAPrivateKey
    let certificateURL: String
    /// "1" (SHA1withRSA) or "2" (SHA256withRSA).
    let signatureVersion: String
    let subscription: SNSSubscription
    /// Where SubscribeURL and UnsubscribeURL point: the sandbox's own `/sns/`.
    let endpointBase: String

    var subscribeURL: String {
        endpointBase + "?Action=ConfirmSubscription&TopicArn=" + Self.queryEscape(subscription.topicArn)
            + "&Token=" + subscription.token
    }

    var unsubscribeURL: String {
        endpointBase + "?Action=Unsubscribe&SubscriptionArn=" + Self.queryEscape(subscription.subscriptionArn)
    }

    /// A Notification carrying `message` (SES's event JSON, as a string).
    func notification(messageId: String, message: String, timestampMilliseconds: Int64) -> (headers: [KeyValue], body: [UInt8]) {
        let timestamp = ISO8601.extendedUTC(milliseconds: timestampMilliseconds)
        let canonical = [("Message", message), ("MessageId", messageId), ("Timestamp", timestamp),
                         ("TopicArn", subscription.topicArn), ("Type", "Notification")]
        var json = JSONWriter(capacity: message.utf8.count + 1024)
        json.beginObject()
        json.member("Type", "Notification")
        json.member("MessageId", messageId)
        json.member("TopicArn", subscription.topicArn)
        json.member("Message", message)
        json.member("Timestamp", timestamp)
        json.member("SignatureVersion", signatureVersion)
        json.member("Signature", sign(canonical))
        json.member("SigningCertURL", certificateURL)
        json.member("UnsubscribeURL", unsubscribeURL)
        json.endObject()
        return (headers(type: "Notification", messageId: messageId, subscribed: true), json.bytes)
    }

    /// The SubscriptionConfirmation SNS sends when an HTTP endpoint is subscribed.
    func subscriptionConfirmation(messageId: String, timestampMilliseconds: Int64) -> (headers: [KeyValue], body: [UInt8]) {
        let timestamp = ISO8601.extendedUTC(milliseconds: timestampMilliseconds)
        let message = "You have chosen to subscribe to the topic \(subscription.topicArn).\n"
            + "To confirm the subscription, visit the SubscribeURL included in this message."
        let token = subscription.token
        let canonical = [("Message", message), ("MessageId", messageId), ("SubscribeURL", subscribeURL),
                         ("Timestamp", timestamp), ("Token", token), ("TopicArn", subscription.topicArn),
                         ("Type", "SubscriptionConfirmation")]
        var json = JSONWriter(capacity: 2048)
        json.beginObject()
        json.member("Type", "SubscriptionConfirmation")
        json.member("MessageId", messageId)
        json.member("Token", token)
        json.member("TopicArn", subscription.topicArn)
        json.member("Message", message)
        json.member("SubscribeURL", subscribeURL)
        json.member("Timestamp", timestamp)
        json.member("SignatureVersion", signatureVersion)
        json.member("Signature", sign(canonical))
        json.member("SigningCertURL", certificateURL)
        json.endObject()
        return (headers(type: "SubscriptionConfirmation", messageId: messageId, subscribed: false), json.bytes)
    }

    private func sign(_ fields: [(String, String)]) -> String {
        SNSSignature.sign(fields, key: key, version: signatureVersion)
    }

    private func headers(type: String, messageId: String, subscribed: Bool) -> [KeyValue] {
        var headers = [
            KeyValue("content-type", "text/plain; charset=UTF-8"),
            KeyValue("user-agent", "Amazon Simple Notification Service Agent"),
            KeyValue("x-amz-sns-message-type", type),
            KeyValue("x-amz-sns-message-id", messageId),
            KeyValue("x-amz-sns-topic-arn", subscription.topicArn),
        ]
        if subscribed { headers.append(KeyValue("x-amz-sns-subscription-arn", subscription.subscriptionArn)) }
        return headers
    }

    static func queryEscape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + Encoding.hex([byte]).uppercased()
            }
        }
        return out
    }
}
