/// The delivery pipeline's tunables; the host config's `[pipeline]` table sets them.
public struct PipelineSettings: Sendable, Equatable, Decodable {
    /// Recipients the processor reads per page (keyset by position).
    public var pageSize = 1_000
    /// Batches one processor expands at once (page by page, interleaved).
    public var processorConcurrency = 8
    /// Recipients per chunk job for providers that take one message per request.
    public var singleSendChunk = 100
    /// Send attempts a recipient may use on transient failures (throttling uses none).
    public var maxAttempts = 5
    /// Backoff after a transient failure (Domain's `Backoff`): base × 2^(attempt-1), capped, spread over 0.5–1.5× the step.
    public var backoffBaseMs: Int64 = 1_000
    public var backoffMaxMs: Int64 = 60_000
    /// Wait after throttling when the provider named no time.
    public var throttleDelayMs: Int64 = 1_000
    /// Chunk jobs a sender lane takes per fetch, and lanes per sender process.
    public var fetchBatch = 32
    public var senderLanes = 4
    /// How long a delivered chunk job may stay unacknowledged before JetStream gives it to another worker
    /// (a worker that died mid-round is replaced after this long).
    public var ackWaitMs: Int64 = 30_000
    /// How long a worker's claim on a recipient keeps other workers off it: longer than a round can take
    /// (the HTTP timeout bounds it), so a job redelivered while its first worker still waits on the
    /// provider finds its recipients held rather than sending them twice.
    public var claimHoldMs: Int64 = 45_000
    /// Discoverer poll interval; background counter sync interval.
    public var discoverIntervalMs: Int64 = 500
    public var syncIntervalMs: Int64 = 2_000
    /// A processing batch without progress for this long is resumed by the recovery job, checked every `recoveryIntervalMs`.
    public var stuckAfterMs: Int64 = 300_000
    public var recoveryIntervalMs: Int64 = 60_000
    /// A tenant with nothing queued and no batch started for this long has its queue's consumer removed
    /// (checked every `recoveryIntervalMs`); its next batch makes it again.
    public var tenantIdleMs: Int64 = 600_000
    /// A leader's lease lives this long unless renewed (renewed every tick).
    public var leaseMs: Int64 = 10_000
    /// Per-request HTTP timeout towards providers.
    public var httpTimeoutMs = 20_000

    public init() {}

    enum CodingKeys: String, CodingKey {
        case pageSize = "page_size", processorConcurrency = "processor_concurrency", singleSendChunk = "single_send_chunk", maxAttempts = "max_attempts"
        case backoffBaseMs = "backoff_base_ms", backoffMaxMs = "backoff_max_ms", throttleDelayMs = "throttle_delay_ms"
        case fetchBatch = "fetch_batch", senderLanes = "sender_lanes", ackWaitMs = "ack_wait_ms", claimHoldMs = "claim_hold_ms"
        case discoverIntervalMs = "discover_interval_ms", syncIntervalMs = "sync_interval_ms", stuckAfterMs = "stuck_after_ms"
        case recoveryIntervalMs = "recovery_interval_ms", tenantIdleMs = "tenant_idle_ms", leaseMs = "lease_ms", httpTimeoutMs = "http_timeout_ms"
    }

    /// Every key optional; a value out of its range is refused naming the key.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = PipelineSettings()
        pageSize = try c.decode(.pageSize, in: 10...50_000, default: d.pageSize)
        processorConcurrency = try c.decode(.processorConcurrency, in: 1...64, default: d.processorConcurrency)
        singleSendChunk = try c.decode(.singleSendChunk, in: 1...1_000, default: d.singleSendChunk)
        maxAttempts = try c.decode(.maxAttempts, in: 1...100, default: d.maxAttempts)
        backoffBaseMs = try c.decode(.backoffBaseMs, in: 1...3_600_000, default: d.backoffBaseMs)
        backoffMaxMs = try c.decode(.backoffMaxMs, in: 1...86_400_000, default: d.backoffMaxMs)
        throttleDelayMs = try c.decode(.throttleDelayMs, in: 1...3_600_000, default: d.throttleDelayMs)
        fetchBatch = try c.decode(.fetchBatch, in: 1...1_000, default: d.fetchBatch)
        senderLanes = try c.decode(.senderLanes, in: 1...64, default: d.senderLanes)
        ackWaitMs = try c.decode(.ackWaitMs, in: 1_000...3_600_000, default: d.ackWaitMs)
        claimHoldMs = try c.decode(.claimHoldMs, in: 1_000...3_600_000, default: d.claimHoldMs)
        discoverIntervalMs = try c.decode(.discoverIntervalMs, in: 10...60_000, default: d.discoverIntervalMs)
        syncIntervalMs = try c.decode(.syncIntervalMs, in: 100...60_000, default: d.syncIntervalMs)
        stuckAfterMs = try c.decode(.stuckAfterMs, in: 1_000...86_400_000, default: d.stuckAfterMs)
        recoveryIntervalMs = try c.decode(.recoveryIntervalMs, in: 1_000...86_400_000, default: d.recoveryIntervalMs)
        tenantIdleMs = try c.decode(.tenantIdleMs, in: 1_000...86_400_000, default: d.tenantIdleMs)
        leaseMs = try c.decode(.leaseMs, in: 1_000...600_000, default: d.leaseMs)
        httpTimeoutMs = try c.decode(.httpTimeoutMs, in: 100...600_000, default: d.httpTimeoutMs)
    }
}
