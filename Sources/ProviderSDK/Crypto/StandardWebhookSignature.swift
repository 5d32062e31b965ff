import ProviderModel

/// The Standard Webhooks signature scheme, which Svix (and so Resend) uses
/// under `svix-*` header names: HMAC-SHA256 keyed by the bytes of a
/// `whsec_<base64>` secret over `"{id}.{timestamp}.{body}"`, sent as
/// space-separated `v1,<base64>` entries (several while a secret rotates).
public struct StandardWebhookSignature: Sendable {
    /// The three headers, by scheme.
    public struct Headers: Sendable {
        public var id: String
        public var timestamp: String
        public var signature: String

        public static let standard = Headers(id: "webhook-id", timestamp: "webhook-timestamp", signature: "webhook-signature")
        public static let svix = Headers(id: "svix-id", timestamp: "svix-timestamp", signature: "svix-signature")
    }

    /// The reference libraries' tolerance for the timestamp, either way (seconds).
    public static let defaultTolerance: Int64 = 300

    private let key: HMACKey

    /// `secret` is `whsec_` + base64 (padded or not); `field` names it in errors (e.g. `config.webhook_secret`).
    public init(secret: String, field: String) throws(PluginFailure) {
        let encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst(6)) : secret
        guard !encoded.isEmpty, let key = Encoding.unbase64(encoded), !key.isEmpty else {
            throw PluginFailure(.config, field: field, "must be whsec_ followed by the base64 of the key bytes")
        }
        self.key = HMACKey(key)
    }

    public init(key: [UInt8]) {
        self.key = HMACKey(key)
    }

    /// The header value for one signature: `v1,<base64>`.
    public func sign(id: String, timestamp: Int64, body: [UInt8]) -> String {
        "v1," + Encoding.base64(mac(id: id, timestamp: String(timestamp), body: body))
    }

    /// Returns when `request` carries a `v1` signature of this key made within
    /// `tolerance` seconds of `nowSeconds`; throws the reason otherwise.
    public func verify(_ request: InboundWebhook, headers names: Headers, nowSeconds: Int64,
                       tolerance: Int64 = defaultTolerance) throws(PluginFailure) {
        let id = try request.signatureHeader(names.id)
        let timestamp = try request.signatureHeader(names.timestamp)
        let signatures = try request.signatureHeader(names.signature)
        _ = try InboundWebhook.checkTimestamp(timestamp, header: names.timestamp, nowSeconds: nowSeconds, tolerance: tolerance)
        var candidates: [[UInt8]] = []
        var malformed = false
        // Space-separated `version,signature` entries; only v1 is defined.
        var header = signatures
        header.withUTF8 { text in
            var start = 0
            while start < text.count {
                var end = start
                while end < text.count, text[end] != UInt8(ascii: " ") { end += 1 }
                let entry = text[start..<end]
                start = end + 1
                guard entry.count > 3, entry.starts(with: [UInt8(ascii: "v"), UInt8(ascii: "1"), UInt8(ascii: ",")]) else { continue }
                if let decoded = Encoding.unbase64(bytes: entry.dropFirst(3)), decoded.count == 32 {
                    candidates.append(decoded)
                } else {
                    malformed = true
                }
            }
        }
        guard !candidates.isEmpty else {
            throw PluginFailure(malformed ? .signatureEncoding : .signatureMissing, field: "header:\(names.signature)",
                                malformed ? "no v1 entry is base64 of 32 bytes" : "no v1 signature in the header")
        }
        let expected = mac(id: id, timestamp: timestamp, body: request.body)
        // Compare against every entry, whatever the first gives, so timing tells nothing.
        var matched = false
        for candidate in candidates where Digest.constantTimeEqual(candidate, expected) { matched = true }
        guard matched else {
            throw PluginFailure(.signatureInvalid, field: "header:\(names.signature)", "no v1 signature matches the body and secret")
        }
    }

    private func mac(id: String, timestamp: String, body: [UInt8]) -> [UInt8] {
        var id = id, timestamp = timestamp
        let dot: [UInt8] = [UInt8(ascii: ".")]
        return id.withUTF8 { id in
            timestamp.withUTF8 { timestamp in
                dot.withUnsafeBytes { dot in
                    body.withUnsafeBytes { body in
                        key.mac(parts: [UnsafeRawBufferPointer(id), dot, UnsafeRawBufferPointer(timestamp), dot, body])
                    }
                }
            }
        }
    }
}
