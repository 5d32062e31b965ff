/// What happened to one message (outcome.h).
public struct SendOutcome: Sendable, Equatable {
    /// The longest wait a plugin's outcome is taken at: a day. A `retry-after` of INT64_MAX
    /// (a hostile or broken server's) would otherwise park the messages for ever, or overflow the
    /// queue's nanosecond delay.
    public static let maximumRetryAfterMs: Int64 = 86_400_000

    public enum Kind: String, Sendable, Codable {
        /// The provider took it; `providerMessageId` is set.
        case accepted
        /// Not now; may succeed later (5xx, timeout). The host spends an attempt on it.
        case retryable
        /// Never as it is (invalid address, refused sender, bad credentials).
        case permanent
        /// Not now: the provider's rate or quota (429, a daily quota). The host waits and spends no
        /// attempt. ABI 1.1; a 1.0 host is sent `.retryable` instead (`compatible(withHostMinor:)`).
        case throttled

        /// What a host of ABI minor `hostMinor` understands this kind as (entry.h): 1.0 has no
        /// throttled kind, and its nearest is retryable, which is what 1.0 plugins sent for throttling.
        public func compatible(withHostMinor hostMinor: UInt32) -> Kind {
            self == .throttled && hostMinor < 1 ? .retryable : self
        }
    }

    public var messageIndex: Int
    public var kind: Kind
    public var providerMessageId: String
    /// Milliseconds the provider asked us to wait, when it said; the host waits at most `maximumRetryAfterMs`.
    public var retryAfterMs: Int64?

    public var code: String
    public var message: String

    public init(messageIndex: Int, kind: Kind, providerMessageId: String = "", retryAfterMs: Int64? = nil,
                code: String = "", message: String = "") {
        self.messageIndex = messageIndex
        self.kind = kind
        self.providerMessageId = providerMessageId
        self.retryAfterMs = retryAfterMs
        self.code = code
        self.message = message
    }

    public static func accepted(_ index: Int, id: String) -> SendOutcome {
        SendOutcome(messageIndex: index, kind: .accepted, providerMessageId: id)
    }

    public static func retryable(_ index: Int, after: Int64? = nil, code: String = "", _ message: String) -> SendOutcome {
        SendOutcome(messageIndex: index, kind: .retryable, retryAfterMs: after, code: code, message: message)
    }

    public static func throttled(_ index: Int, after: Int64? = nil, code: String = "", _ message: String) -> SendOutcome {
        SendOutcome(messageIndex: index, kind: .throttled, retryAfterMs: after, code: code, message: message)
    }

    /// The code of the permanent outcome for a message whose attachments cannot be sent (message.h, 1.2).
    public static let attachmentsUnsupported = "attachments_unsupported"

    /// A message refused because it carries files this plugin does not send: never sent without them.
    public static func attachmentsUnsupported(_ index: Int, _ why: String) -> SendOutcome {
        .permanent(index, code: attachmentsUnsupported, "messages[\(index)] has attachments; \(why)")
    }

    public static func permanent(_ index: Int, code: String = "", _ message: String) -> SendOutcome {
        SendOutcome(messageIndex: index, kind: .permanent, code: code, message: message)
    }
}

extension SendOutcome: Codable {
    enum CodingKeys: String, CodingKey {
        case kind, code, message
        case messageIndex = "message_index"
        case providerMessageId = "provider_message_id"
        case retryAfterMs = "retry_after_ms"
    }
}

/// What prepare produced: the requests to send, and outcomes for messages refused before sending.
public struct PreparedSend: Sendable, Equatable {
    public var requests: [PreparedRequest]
    public var refused: [SendOutcome]

    public init(requests: [PreparedRequest], refused: [SendOutcome] = []) {
        self.requests = requests
        self.refused = refused
    }
}
