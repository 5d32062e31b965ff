import ProviderCrypto
import ProviderKit

extension SESProvider {
    /// An SNS message is authentic when its topic is allowed, its certificate
    /// URL is AWS's, and the certificate's key signed the canonical string
    /// (SHA1withRSA for SignatureVersion 1, SHA256withRSA for 2).
    public func verify(_ request: InboundWebhook, context: some PluginContext) throws(PluginFailure) {
        let message = try SNSMessage(body: request.body)
        for (header, field) in [("x-amz-sns-message-type", "Type"), ("x-amz-sns-message-id", "MessageId"),
                                ("x-amz-sns-topic-arn", "TopicArn")] {
            if let value = request.headers.first(named: header), value != message.fields[field] {
                throw PluginFailure(.signatureInvalid, field: "header:\(header)", "does not match the body's \(field)")
            }
        }
        guard let version = message.fields["SignatureVersion"] else {
            throw PluginFailure(.signatureMissing, field: "body.SignatureVersion", "missing: the SNS message is not signed")
        }
        guard let encoded = message.fields["Signature"] else {
            throw PluginFailure(.signatureMissing, field: "body.Signature", "missing: the SNS message is not signed")
        }
        guard let certificateURL = message.fields["SigningCertURL"] ?? message.fields["SigningCertUrl"] else {
            throw PluginFailure(.signatureMissing, field: "body.SigningCertURL", "missing: the SNS message is not signed")
        }
        let digest: RSADigest
        switch version {
        case "1": digest = .sha1
        case "2": digest = .sha256
        default: throw PluginFailure(.signatureInvalid, field: "body.SignatureVersion", "\"\(version.prefix(8))\" is not 1 or 2")
        }
        guard let signature = Encoding.unbase64(encoded), !signature.isEmpty else {
            throw PluginFailure(.signatureEncoding, field: "body.Signature", "not base64")
        }
        let trusted = SNSMessage.isSigningCertificateURL(certificateURL)
            || (!testCertificatePrefix.isEmpty && certificateURL.hasPrefix(testCertificatePrefix))
        guard trusted else {
            throw PluginFailure(.signatureInvalid, field: "body.SigningCertURL",
                                "\"\(certificateURL.prefix(120))\" is not an https URL of a .pem on sns.<region>.amazonaws.com")
        }
        guard topicArns.contains(message.topicArn) else {
            throw PluginFailure(.forbidden, field: "body.TopicArn", "\"\(message.topicArn.prefix(120))\" is not in config.sns_topic_arns")
        }
        let key = try certificateKey(certificateURL, context: context)
        guard key.verify(signature: signature, message: message.stringToSign, digest: digest) else {
            throw PluginFailure(.signatureInvalid, field: "body.Signature", "does not match the message and the certificate at SigningCertURL")
        }
    }

    /// The certificate's key, from this instance's cache or the host's fetch service.
    func certificateKey(_ url: String, context: some PluginContext) throws(PluginFailure) -> CertificatePublicKey {
        if let key = certificates.key(for: url) { return key }
        switch context.fetch(url) {
        case .document(let pem):
            guard let key = CertificatePublicKey(certificatePEM: pem) else {
                throw PluginFailure(.signatureInvalid, field: "body.SigningCertURL", "the document there is not a PEM certificate with an RSA key")
            }
            certificates.store(key, for: url)
            return key
        case .pending:
            throw PluginFailure(.pending, field: "body.SigningCertURL", "waiting for the host to fetch the signing certificate")
        case .forbidden:
            throw PluginFailure(.forbidden, field: "body.SigningCertURL", "the host's fetch allow-list does not include \(url.prefix(120))")
        case .failed(let reason):
            throw PluginFailure(.internal, field: "body.SigningCertURL", "could not fetch the signing certificate: \(reason)")
        }
    }

    /// Notifications give one event per affected recipient; a
    /// SubscriptionConfirmation gives one `subscription_confirmation` event
    /// with the SubscribeURL; an UnsubscribeConfirmation and SES's plain-text
    /// topic test give none.
    public func parse(_ request: InboundWebhook, context: some PluginContext) throws(PluginFailure) -> [DeliveryEvent] {
        let message = try SNSMessage(body: request.body)
        switch message.kind {
        case .unsubscribeConfirmation:
            return []
        case .subscriptionConfirmation:
            guard let url = message.fields["SubscribeURL"], url.hasPrefix("https://") || url.hasPrefix("http://") else {
                throw PluginFailure(.malformed, field: "body.SubscribeURL", "missing or not a URL")
            }
            return [DeliveryEvent(type: .subscriptionConfirmation, timestampMs: message.fields["Timestamp"].flatMap(ISO8601.milliseconds),
                                  eventId: message.messageId, providerMessageId: "", recipient: "", reason: message.topicArn,
                                  url: url, raw: String(decoding: request.body, as: UTF8.self))]
        case .notification:
            guard let event = JSONValue.parse(Array(message.message.utf8)), case .object = event else {
                // "Successfully validated SNS topic for Amazon SES event publishing." and other text.
                return []
            }
            return try SESEvent(event, raw: message.message).deliveryEvents(eventId: message.messageId)
        }
    }
}
