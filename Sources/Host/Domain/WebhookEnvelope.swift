import HostCore
import ProviderModel

/// A verified webhook request as the receiver stored it in the `webhooks`
/// stream: the exact request (so the processor parses what the provider
/// signed), which route took it, and when. Framed as length-prefixed fields
/// behind a version byte: the body is stored byte for byte, with nothing to
/// escape.
public struct WebhookEnvelope: Sendable, Equatable {
    public var provider: String
    /// The BYOK send-config whose URL took it; nil for the managed route.
    public var sendConfigID: String?
    public var receivedAtMs: Int64
    public var request: InboundWebhook

    public init(provider: String, sendConfigID: String?, receivedAtMs: Int64, request: InboundWebhook) {
        self.provider = provider
        self.sendConfigID = sendConfigID
        self.receivedAtMs = receivedAtMs
        self.request = request
    }

    static let version: UInt8 = 1

    public func encoded() -> [UInt8] {
        var out: [UInt8] = [Self.version]
        out.reserveCapacity(request.body.count + 64 + request.headers.count * 48)
        func append(_ bytes: some Collection<UInt8>) {
            let count = UInt32(bytes.count)
            for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: count >> UInt32(shift))) }
            out.append(contentsOf: bytes)
        }
        append(provider.utf8)
        append((sendConfigID ?? "").utf8)
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: receivedAtMs >> Int64(shift))) }
        append(request.method.utf8)
        append(request.path.utf8)
        append(String(request.headers.count).utf8)
        for header in request.headers {
            append(header.name.utf8)
            append(header.value.utf8)
        }
        append(request.body)
        return out
    }

    /// Nil when the bytes are not an envelope this version wrote.
    public static func decode(_ bytes: [UInt8]) -> WebhookEnvelope? {
        var index = 1
        guard bytes.first == version else { return nil }
        func field() -> ArraySlice<UInt8>? {
            guard index + 4 <= bytes.count else { return nil }
            var count = 0
            for offset in 0..<4 { count = count << 8 | Int(bytes[index + offset]) }
            index += 4
            guard count <= bytes.count - index else { return nil }
            defer { index += count }
            return bytes[index..<index + count]
        }
        func text() -> String? { field().map { String(decoding: $0, as: UTF8.self) } }
        guard let provider = text(), let config = text(), index + 8 <= bytes.count else { return nil }
        var received: Int64 = 0
        for offset in 0..<8 { received = received << 8 | Int64(bytes[index + offset]) }
        index += 8
        guard let method = text(), let path = text(), let countText = text(), let count = Int(countText), count >= 0,
              count <= bytes.count else { return nil }
        var headers: [KeyValue] = []
        headers.reserveCapacity(count)
        for _ in 0..<count {
            guard let name = text(), let value = text() else { return nil }
            headers.append(KeyValue(name, value))
        }
        guard let body = field(), index == bytes.count else { return nil }
        return WebhookEnvelope(provider: provider, sendConfigID: config.isEmpty ? nil : config, receivedAtMs: received,
                               request: InboundWebhook(method: method, path: path, headers: headers, body: Array(body)))
    }
}
