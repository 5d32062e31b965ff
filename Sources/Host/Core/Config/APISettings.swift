/// The sender API's limits as an operator sets them in the host config's `[api]` table.
/// Every key is optional; a value out of its range is refused naming the key.
public struct APISettings: Sendable, Equatable, Decodable {
    public var rateLimitPerKey = 1_200
    public var rateLimitPerAddress = 2_400
    public var rateLimitWindowMs = 60_000
    public var maxRecipientsPerBatch = 1_000_000
    public var databaseConnections = 8
    public var redisConnections = 4
    public var redisKeyPrefix = "batchsender:"

    public init() {}

    enum CodingKeys: String, CodingKey {
        case rateLimitPerKey = "rate_limit_per_key"
        case rateLimitPerAddress = "rate_limit_per_address"
        case rateLimitWindowMs = "rate_limit_window_ms"
        case maxRecipientsPerBatch = "max_recipients_per_batch"
        case databaseConnections = "database_connections"
        case redisConnections = "redis_connections"
        case redisKeyPrefix = "redis_key_prefix"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func integer(_ key: CodingKeys, _ range: ClosedRange<Int>, default value: Int) throws -> Int {
            guard let given = try c.decodeIfPresent(Int.self, forKey: key) else { return value }
            guard range.contains(given) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "must be from \(range.lowerBound) to \(range.upperBound), not \(given)")
            }
            return given
        }
        rateLimitPerKey = try integer(.rateLimitPerKey, 1...10_000_000, default: rateLimitPerKey)
        rateLimitPerAddress = try integer(.rateLimitPerAddress, 1...10_000_000, default: rateLimitPerAddress)
        rateLimitWindowMs = try integer(.rateLimitWindowMs, 1_000...86_400_000, default: rateLimitWindowMs)
        maxRecipientsPerBatch = try integer(.maxRecipientsPerBatch, 1...10_000_000, default: maxRecipientsPerBatch)
        databaseConnections = try integer(.databaseConnections, 1...256, default: databaseConnections)
        redisConnections = try integer(.redisConnections, 1...256, default: redisConnections)
        if let prefix = try c.decodeIfPresent(String.self, forKey: .redisKeyPrefix) {
            guard !prefix.isEmpty, prefix.utf8.count <= 64, !prefix.contains(where: \.isWhitespace) else {
                throw DecodingError.dataCorruptedError(forKey: .redisKeyPrefix, in: c, debugDescription: "must be 1 to 64 characters without spaces")
            }
            redisKeyPrefix = prefix
        }
    }
}
