import HostCore
import ProviderModel

/// The one list of statuses a recipient and a batch can have. The schema's
/// CHECK constraints, the API's filters, the OpenAPI document and the
/// pipeline's writes all take their words from here.
public enum RecipientStatus: String, Sendable, CaseIterable {
    case pending, queued, sent, delivered, deferred, bounced, complained, rejected, failed, suppressed, cancelled

    /// Statuses after which the pipeline owes the recipient nothing more.
    public static let terminal: Set<RecipientStatus> = [.sent, .delivered, .bounced, .complained, .rejected, .failed,
                                                        .suppressed, .cancelled]
    /// Statuses a send outcome may overwrite: a recipient waiting to be sent, or one
    /// cancelled while its send was already in flight (the provider took it anyway).
    public static let sendable: [RecipientStatus] = [.pending, .queued, .deferred, .cancelled]
    /// Statuses of a recipient still waiting to be sent: what the processor expands and a batch cannot
    /// complete with.
    public static let waiting: [RecipientStatus] = [.pending, .queued, .deferred]

    /// The statuses most of a batch's recipients go through (waiting, then sent, then delivered), which the
    /// by-status index leaves out: listing them walks the batch, and a change between them changes no indexed
    /// value, so PostgreSQL can make it in place. The index's column (`rare_status`, migration 20) spells the same
    /// words out.
    public static let common: [RecipientStatus] = [.pending, .sent, .delivered]

    public var isWaiting: Bool { Self.waiting.contains(self) }
    public var isTerminal: Bool { Self.terminal.contains(self) }

    /// The status as an SQL string literal (the words are plain lowercase letters: nothing to escape).
    public var sql: String { "'\(rawValue)'" }

    /// `('a', 'b')`, for `status IN …`.
    public static func sqlList(_ statuses: some Sequence<RecipientStatus>) -> String {
        "(" + statuses.map(\.sql).joined(separator: ", ") + ")"
    }
}

public enum BatchStatus: String, Sendable, CaseIterable {
    case draft, queued, processing, completed, cancelled, failed

    public static var names: Set<String> { Set(allCases.map(\.rawValue)) }

    /// Statuses a batch can still be cancelled from: it has not finished.
    public static let cancellable: [BatchStatus] = [.draft, .queued, .processing]
    /// Statuses in which a batch is on its way to a provider: its send-config must stay.
    public static let sending: [BatchStatus] = [.queued, .processing]
    /// Statuses a batch can be paused or resumed in: on its way, not finished.
    public static let pausable: [BatchStatus] = [.queued, .processing]

    /// The status as an SQL string literal (the words are plain lowercase letters: nothing to escape).
    public var sql: String { "'\(rawValue)'" }

    /// `('a', 'b')`, for `status IN …`.
    public static func sqlList(_ statuses: some Sequence<BatchStatus>) -> String {
        "(" + statuses.map(\.sql).joined(separator: ", ") + ")"
    }
}

extension RecipientStatus {
    /// The status a provider's event moves a sent recipient to; nil for events that are
    /// only recorded (a delay, an open, a click, an unsubscribe). A delay is not `deferred`:
    /// that word means "waiting to be sent" to the pipeline, and the provider already has it.
    public static func after(_ event: DeliveryEvent.EventType) -> RecipientStatus? {
        switch event {
        case .sent: .sent
        case .delivered: .delivered
        case .bounced: .bounced
        case .complained: .complained
        case .rejected: .rejected
        case .failed: .failed
        case .unknown, .queued, .deferred, .opened, .clicked, .unsubscribed, .subscriptionConfirmation: nil
        }
    }

    /// Webhooks move a recipient only forward along this order: `delivered` is never taken back by a
    /// late `sent`, and a bounce, complaint, rejection or failure is final (a complaint comes after
    /// delivery, so it may follow `delivered`).
    public var webhookRank: Int {
        switch self {
        case .sent: 1
        case .delivered: 2
        case .bounced, .complained, .rejected, .failed: 3
        default: 0
        }
    }

    /// Statuses a webhook may move a recipient from: only what the provider accepted.
    public static let webhookMovable: [RecipientStatus] = [.sent, .delivered]

    /// Whether a provider's event may move a recipient from this status to `new`: only from what the
    /// provider accepted, and only forward (the SQL that applies webhooks is generated from the same rank
    /// and list).
    public func webhookMayMove(to new: RecipientStatus) -> Bool {
        Self.webhookMovable.contains(self) && webhookRank < new.webhookRank
    }

    /// The batch counter that counts recipients a webhook moved to this status.
    public var webhookCounter: String? {
        switch self {
        case .delivered: "delivered_count"
        case .bounced: "bounced_count"
        case .complained: "complained_count"
        case .rejected: "rejected_count"
        case .failed: "undelivered_count"
        default: nil
        }
    }
}
