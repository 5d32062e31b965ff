import HostCore
import ProviderModel

/// A stored webhook the processor gave up on, and why: an event PostgreSQL refused on every attempt,
/// a body its plugin cannot parse, a config gone, bytes no envelope. Kept in `webhook_dead_letters`
/// (`batchsender webhooks dead-letters`) and then acknowledged, so it leaves the work stream.
public struct WebhookDeadLetter: Sendable, Equatable {
    public var provider: String
    public var sendConfigID: String?
    public var receivedAtMs: Int64?
    /// How many times JetStream had delivered it.
    public var deliveries: UInt64
    /// What failed, one line each (an event's id and PostgreSQL's error, say).
    public var reasons: [String]
    /// The stored webhook byte for byte (`WebhookEnvelope`), so that it can be applied again.
    public var envelope: [UInt8]

    public init(envelope: WebhookEnvelope, bytes: [UInt8], deliveries: UInt64, reasons: [String]) {
        provider = envelope.provider
        sendConfigID = envelope.sendConfigID
        receivedAtMs = envelope.receivedAtMs
        self.deliveries = deliveries
        self.reasons = reasons
        self.envelope = bytes
    }

    /// Bytes that are no envelope this version reads.
    public init(unreadable bytes: [UInt8], deliveries: UInt64, reason: String) {
        provider = ""
        sendConfigID = nil
        receivedAtMs = nil
        self.deliveries = deliveries
        reasons = [reason]
        envelope = bytes
    }
}
