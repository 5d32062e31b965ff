/// The event writer's settings: the host config's `[analytics]` table.
public struct AnalyticsSettings: Sendable, Equatable, Decodable {
    /// A block is written when it holds this many events…
    public var flushRows = 10_000
    /// …or when its oldest event is this old, whichever comes first.
    public var flushIntervalMs: Int64 = 5_000
    /// Events held in memory while ClickHouse is away; older blocks go to `spill_dir` beyond this.
    public var memoryRows = 100_000
    /// Where blocks wait on disk for ClickHouse to come back (relative to the working directory).
    public var spillDir = ".stack/analytics-spill"
    /// How long one insert may take before it counts as failed (and is sent again).
    public var insertTimeoutMs = 10_000

    public init() {}

    enum CodingKeys: String, CodingKey {
        case flushRows = "flush_rows", flushIntervalMs = "flush_interval_ms", memoryRows = "memory_rows", spillDir = "spill_dir"
        case insertTimeoutMs = "insert_timeout_ms"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = AnalyticsSettings()
        flushRows = try c.decode(.flushRows, in: 1...500_000, default: d.flushRows)
        flushIntervalMs = try c.decode(.flushIntervalMs, in: 10...600_000, default: d.flushIntervalMs)
        memoryRows = try c.decode(.memoryRows, in: 1...10_000_000, default: d.memoryRows)
        spillDir = try c.decodeIfPresent(String.self, forKey: .spillDir) ?? d.spillDir
        guard !spillDir.isEmpty else {
            throw DecodingError.dataCorruptedError(forKey: .spillDir, in: c, debugDescription: "must name a folder")
        }
        insertTimeoutMs = try c.decode(.insertTimeoutMs, in: 100...600_000, default: d.insertTimeoutMs)
        guard memoryRows >= flushRows else {
            throw DecodingError.dataCorruptedError(forKey: .memoryRows, in: c, debugDescription: "must be at least flush_rows (\(flushRows))")
        }
    }
}
