import HostCore
import ProviderModel

/// The one list of event types the analytics store counts. The pipeline's writes, the webhook
/// processor, the analytics API and the OpenAPI document take their words from here.
public enum AnalyticsEventType: String, Sendable, CaseIterable {
    /// The processor put the recipient in a chunk.
    case queued
    /// The provider accepted the message (the sender's outcome).
    case sent
    /// The message could not be sent (the sender's or processor's outcome).
    case failed
    /// The provider refused the message.
    case rejected
    /// The address was on the owner's suppression list.
    case suppressed
    /// The batch was cancelled before the message went.
    case cancelled
    /// What the provider's webhooks told afterwards.
    case delivered, deferred, bounced, complained, opened, clicked, unsubscribed
    /// The provider gave up delivering (its `failed` event): the batch counter `undelivered`.
    case undelivered

    /// The event a sender or processor outcome records; nil for statuses that are no outcome.
    public static func outcome(_ status: RecipientStatus) -> AnalyticsEventType? {
        switch status {
        case .sent: .sent
        case .failed: .failed
        case .rejected: .rejected
        case .suppressed: .suppressed
        case .cancelled: .cancelled
        case .pending, .queued, .delivered, .deferred, .bounced, .complained: nil
        }
    }

    /// The event a provider's webhook records; nil for those the sender's own outcome already counts
    /// (the provider's `queued` and `sent`) and for the unknown.
    public static func webhook(_ type: DeliveryEvent.EventType) -> AnalyticsEventType? {
        switch type {
        case .delivered: .delivered
        case .deferred: .deferred
        case .bounced: .bounced
        case .complained: .complained
        case .rejected: .rejected
        case .failed: .undelivered
        case .opened: .opened
        case .clicked: .clicked
        case .unsubscribed: .unsubscribed
        case .unknown, .queued, .sent, .subscriptionConfirmation: nil
        }
    }
}

/// One row of `email_events`.
public struct AnalyticsEvent: Sendable, Equatable {
    public var timeMs: Int64
    public var userID: String
    public var batchID: String
    public var recipient: Int
    public var sendConfigID: String
    public var provider: String
    public var type: AnalyticsEventType
    public var bounceClass: String
    public var reason: String
    public var providerMessageID: String
    /// The provider's event id; empty for the pipeline's own events, which a recipient has once each.
    public var eventID: String
    /// How many recipients' events this one stands for: a chunk's `queued` and `sent` are one event each, counted
    /// (`recipient` is then the first of them); every other event is one recipient's.
    public var count: Int

    public init(timeMs: Int64, userID: String, batchID: String, recipient: Int, sendConfigID: String, provider: String,
                type: AnalyticsEventType, bounceClass: String = "", reason: String = "", providerMessageID: String = "", eventID: String = "",
                count: Int = 1) {
        self.timeMs = timeMs
        self.userID = userID
        self.batchID = batchID
        self.recipient = recipient
        self.sendConfigID = sendConfigID
        self.provider = provider
        self.type = type
        self.bounceClass = bounceClass
        self.reason = reason
        self.providerMessageID = providerMessageID
        self.count = count
        self.eventID = eventID
    }
}
