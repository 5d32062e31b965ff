/// What a batch's history records besides its recipients' outcomes: each time its messages switch the
/// send-config they go through. The API, the dashboard and the OpenAPI document take the names from here.
public enum BatchEventType: String, Sendable, CaseIterable {
    /// Its own config's provider stopped answering: its unsent messages go through a fallback config.
    case failover
    /// Its own config's provider answers again: its messages go through it again.
    case failback
}
