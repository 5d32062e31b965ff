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
}

public enum BatchStatus: String, Sendable, CaseIterable {
    case draft, queued, processing, completed, cancelled, failed

    public static var names: Set<String> { Set(allCases.map(\.rawValue)) }
}
