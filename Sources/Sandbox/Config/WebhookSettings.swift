/// What happens to a message after it is accepted, and how its webhooks travel.
public struct WebhookSettings: Sendable, Decodable {
    /// Relative weights of each accepted message's fate.
    public struct OutcomeMix: Sendable, Decodable {
        public var delivered = 90.0
        public var hardBounce = 3.0
        public var softBounce = 2.0
        public var complained = 1.0
        public var failed = 2.0
        /// Delayed first, delivered later.
        public var delayed = 2.0

        public init() {}

        enum CodingKeys: String, CodingKey {
            case delivered, hardBounce = "hard_bounce", softBounce = "soft_bounce", complained, failed, delayed
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            delivered = try c.number(.delivered, or: 0)
            hardBounce = try c.number(.hardBounce, or: 0)
            softBounce = try c.number(.softBounce, or: 0)
            complained = try c.number(.complained, or: 0)
            failed = try c.number(.failed, or: 0)
            delayed = try c.number(.delayed, or: 0)
        }

        var all: [(fate: MessageFate, weight: Double)] {
            [(.delivered, delivered), (.hardBounce, hardBounce), (.softBounce, softBounce),
             (.complained, complained), (.failed, failed), (.delayed, delayed)]
        }

        var total: Double { all.reduce(0) { $0 + $1.weight } }
    }

    public var outcomes = OutcomeMix()
    /// Chance that a delivered email is opened, and that an opened one is clicked.
    public var openRate = 0.3
    public var clickRate = 0.1
    /// Each webhook leaves this long after the step before it, drawn uniformly: [minimum, maximum].
    public var latencyMilliseconds = [20, 200]
    /// Chance that a webhook is also sent a second time, later, with the same event id.
    public var duplicateRate = 0.02
    /// The providers' retry schedules (hours long) are multiplied by this.
    public var retryTimeScale = 0.001
    /// Webhook requests in flight at once.
    public var concurrency = 64

    public init() {}

    enum CodingKeys: String, CodingKey {
        case outcomes, openRate = "open_rate", clickRate = "click_rate", latencyMilliseconds = "latency_ms"
        case duplicateRate = "duplicate_rate", retryTimeScale = "retry_time_scale", concurrency
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        outcomes = try c.value(.outcomes, or: outcomes)
        openRate = try c.number(.openRate, or: openRate)
        clickRate = try c.number(.clickRate, or: clickRate)
        latencyMilliseconds = try c.value(.latencyMilliseconds, or: latencyMilliseconds)
        duplicateRate = try c.number(.duplicateRate, or: duplicateRate)
        retryTimeScale = try c.number(.retryTimeScale, or: retryTimeScale)
        concurrency = try c.value(.concurrency, or: concurrency)
    }
}

/// `POST /receiver/{name}`: one entry per receiver name.
public struct ReceiverSettings: Sendable, Decodable {
    public struct Receiver: Sendable, Decodable {
        /// `whsec_…`; absent: the documented default secret.
        public var secret: String?
        /// Relative weights of the statuses answered to correctly signed requests, e.g. `{ "200" = 9, "503" = 1 }`.
        public var responses: [String: Double] = ["200": 1]

        enum CodingKeys: String, CodingKey { case secret, responses }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            secret = try c.decodeIfPresent(String.self, forKey: .secret)
            responses = try c.decodeIfPresent([String: TOMLNumber].self, forKey: .responses)?.mapValues(\.value) ?? responses
        }
    }

    public var named: [String: Receiver] = [:]

    public init() {}

    public init(from decoder: Decoder) throws {
        named = try [String: Receiver](from: decoder)
    }
}
