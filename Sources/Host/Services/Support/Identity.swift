/// The owner of the API key a request came with.
public struct Identity: Sendable, Equatable {
    public var userID: String
    /// The API key's id; for a dashboard session, the session's own label (no key is involved).
    public var keyID: String

    public init(userID: String, keyID: String) {
        self.userID = userID
        self.keyID = keyID
    }
}
