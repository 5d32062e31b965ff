import ProviderCrypto
import ProviderModel
import ProviderSandbox

/// SES delivery events as SNS delivers them over HTTP: a Notification whose
/// Message is SES's event JSON, signed SHA256withRSA as SNS signs (`SNSSignature`).
enum SNSBenchSigner {
    static let topicArn = "arn:aws:sns:us-east-1:123456789012:batchsender-bench"

    /// Webhook i: the delivery of message `bench-i` to `bench{i}@example.org`.
    static func notification(_ i: Int, key: RSAPrivateKey, certificateURL: String, timestamp: String) -> (headers: [(String, String)], body: String) {
        let message = JSONValue.object([
            "eventType": "Delivery",
            "mail": .object(["messageId": .string("bench-\(i)"), "destination": .array([.string("bench\(i)@example.org")]),
                             "source": "a@example.com", "timestamp": .string(timestamp)]),
            "delivery": .object(["timestamp": .string(timestamp), "recipients": .array([.string("bench\(i)@example.org")]),
                                 "smtpResponse": "250 2.6.0 Message received"]),
        ]).compactText
        let messageID = "sns-bench-\(i)"
        let signature = SNSSignature.sign([("Message", message), ("MessageId", messageID), ("Timestamp", timestamp), ("TopicArn", topicArn),
                                           ("Type", "Notification")], key: key, version: "2")
        let body = JSONValue.object([
            "Type": "Notification", "MessageId": .string(messageID), "TopicArn": .string(topicArn), "Message": .string(message),
            "Timestamp": .string(timestamp), "SignatureVersion": "2",
            "Signature": .string(signature), "SigningCertURL": .string(certificateURL),
        ]).compactText
        return ([("x-amz-sns-message-type", "Notification"), ("x-amz-sns-message-id", messageID), ("x-amz-sns-topic-arn", topicArn)], body)
    }
}
