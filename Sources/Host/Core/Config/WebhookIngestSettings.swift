/// The webhook receiver's and processor's settings: the host config's `[webhooks]` table.
public struct WebhookIngestSettings: Sendable, Equatable, Decodable {
    /// Where the receiver listens (`serve --roles receiver`).
    public var host = "127.0.0.1"
    public var port = 6002
    /// How providers reach the receiver: the base of the webhook URL each BYOK send-config shows.
    public var publicURL = "http://127.0.0.1:6002"
    /// A larger body is refused with 413 before it is read whole.
    public var maxBodyBytes = 262_144
    /// How long a request waits for JetStream to acknowledge its publish before it gets 503.
    public var publishTimeoutMs: Int64 = 5_000
    /// Requests waiting for a publish at once; more get 503 at once (the provider retries).
    public var pendingLimit = 20_000
    /// A connection must send a whole request within this long of when it could start one (opened, or its last
    /// reply written): a slow one gets 408 and is closed, an idle one is closed.
    public var requestTimeoutMs: Int64 = 30_000
    /// Stored webhooks a processor lane takes per fetch, and lanes per webhook processor: four keep two cores
    /// busy (each lane waits on PostgreSQL, Redis and NATS in turn; two left a seventh of the machine idle).
    public var fetchBatch = 500
    public var processorLanes = 4
    /// How long an applied event id is remembered in Redis: longer than any provider's retry schedule (Svix ~28 h),
    /// and no longer: at thousands of events a second every hour of it is millions of keys.
    public var dedupeTTLHours = 30
    /// An event whose message is not known yet is tried again after this long…
    public var orphanRetryMs: Int64 = 5_000
    /// …until it is this old, then kept as an orphan for an operator.
    public var orphanAfterMs: Int64 = 600_000

    public init() {}

    enum CodingKeys: String, CodingKey {
        case host, port
        case publicURL = "public_url", maxBodyBytes = "max_body_bytes", publishTimeoutMs = "publish_timeout_ms"
        case pendingLimit = "pending_limit", requestTimeoutMs = "request_timeout_ms", fetchBatch = "fetch_batch", processorLanes = "processor_lanes", dedupeTTLHours = "dedupe_ttl_hours"
        case orphanRetryMs = "orphan_retry_ms", orphanAfterMs = "orphan_after_ms"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = WebhookIngestSettings()
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? d.host
        port = try c.decode(.port, in: 0...65_535, default: d.port)
        publicURL = try c.decodeIfPresent(String.self, forKey: .publicURL) ?? d.publicURL
        guard publicURL.hasPrefix("http://") || publicURL.hasPrefix("https://") else {
            throw DecodingError.dataCorruptedError(forKey: .publicURL, in: c, debugDescription: "must be an http:// or https:// URL")
        }
        while publicURL.hasSuffix("/") { publicURL.removeLast() }
        maxBodyBytes = try c.decode(.maxBodyBytes, in: 1_024...16 << 20, default: d.maxBodyBytes)
        publishTimeoutMs = try c.decode(.publishTimeoutMs, in: 100...60_000, default: d.publishTimeoutMs)
        pendingLimit = try c.decode(.pendingLimit, in: 1...1_000_000, default: d.pendingLimit)
        requestTimeoutMs = try c.decode(.requestTimeoutMs, in: 100...600_000, default: d.requestTimeoutMs)
        fetchBatch = try c.decode(.fetchBatch, in: 1...5_000, default: d.fetchBatch)
        processorLanes = try c.decode(.processorLanes, in: 1...16, default: d.processorLanes)
        dedupeTTLHours = try c.decode(.dedupeTTLHours, in: 1...24 * 90, default: d.dedupeTTLHours)
        orphanRetryMs = try c.decode(.orphanRetryMs, in: 100...3_600_000, default: d.orphanRetryMs)
        orphanAfterMs = try c.decode(.orphanAfterMs, in: 1_000...7 * 86_400_000, default: d.orphanAfterMs)
    }
}
