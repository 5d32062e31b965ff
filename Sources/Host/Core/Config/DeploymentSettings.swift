/// The host config's `[deployment]` table: the name that keeps deployments sharing a NATS, a Redis or a
/// ClickHouse apart (staging beside production, a benchmark beside the real one). Every process of one
/// deployment must carry the same name; two deployments must not.
public struct DeploymentSettings: Sendable, Equatable, Decodable {
    /// The deployment every earlier version was: its NATS streams and subjects keep their unprefixed names,
    /// its Redis prefix and ClickHouse database are the ones it always had, so an upgrade finds its work.
    public static let standardName = "batchsender"

    public var name = DeploymentSettings.standardName

    /// The first tokens of the standard deployment's subjects (`sys.…`, `email.user.…`, `dlq.email.…`,
    /// `webhook.…`), reserved: `dlq` and `webhook` would put a deployment's subjects under the standard one's
    /// (`dlq.email.>` takes `dlq.email.user.*.send`), which JetStream refuses, so whichever started second would
    /// not start; `sys` and `email` do not overlap today, and are kept free so that no new subject can make them.
    public static let reservedNames: Set<String> = ["sys", "email", "dlq", "webhook"]
    /// ClickHouse's own databases, which the name would otherwise become.
    public static let analyticsReservedNames: Set<String> = ["system", "default", "information_schema"]

    public init(name: String = DeploymentSettings.standardName) {
        self.name = name
    }

    enum CodingKeys: String, CodingKey { case name }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let given = try c.decodeIfPresent(String.self, forKey: .name) {
            guard let problem = Self.problem(with: given) else {
                name = given
                return
            }
            throw DecodingError.dataCorruptedError(forKey: .name, in: c, debugDescription: problem)
        }
    }

    /// Why `name` cannot name a deployment, or nil. It becomes a NATS stream prefix and subject token, a
    /// Redis key prefix and a ClickHouse database name, so it keeps to what all of them take unquoted.
    public static func problem(with name: String) -> String? {
        let bytes = Array(name.utf8)
        guard (1...32).contains(bytes.count) else { return "must be 1 to 32 characters, not \(bytes.count)" }
        guard (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[0]) else { return "must start with a lower-case letter" }
        let allowed = bytes.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "_")
        }
        guard allowed else { return "may hold only lower-case letters, digits and _" }
        guard !reservedNames.contains(name) else {
            return "must not be \(reservedNames.sorted().joined(separator: ", ")): reserved for the standard deployment's subjects"
        }
        guard !analyticsReservedNames.contains(name) else {
            return "must not be \(analyticsReservedNames.sorted().joined(separator: ", ")): ClickHouse's own databases"
        }
        return nil
    }

    /// The Redis key prefix when `[api] redis_key_prefix` does not set one.
    public var redisKeyPrefix: String { name + ":" }
    /// The ClickHouse database when CLICKHOUSE_URL does not name one.
    public var analyticsDatabase: String { name }
}

/// The host config's `[nats]` table.
public struct NATSSettings: Sendable, Equatable, Decodable {
    /// Copies JetStream keeps of every stream this deployment creates: 1 on a single server, 3 on a cluster
    /// (a stream survives the loss of any one node). A stream made with fewer is updated to these; one with more
    /// keeps its own: lowering is an operator's deliberate act (`nats stream edit`), never the side effect of a
    /// process started with another config (an operator's command without --config).
    public var replicas = 1

    public init(replicas: Int = 1) {
        self.replicas = replicas
    }

    enum CodingKeys: String, CodingKey { case replicas }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        replicas = try c.decode(.replicas, in: 1...5, default: 1)
    }
}
