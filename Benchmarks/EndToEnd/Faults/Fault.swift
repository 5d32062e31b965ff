/// The faults `batchsender faults` runs, each against a batch sending under a binding limit: one list that the
/// command's options, its table and docs/faults.md take their names from.
enum Fault: String, CaseIterable {
    case hostKilled = "host-kill"
    case redisRestart = "redis-restart"
    case redisLostWrites = "redis-lost-writes"
    case redisFlushed = "redis-flushall"
    case natsRestart = "nats-restart"
    case natsLeaderKilled = "nats-leader-kill"
    case postgresRestart = "postgres-restart"
    case clickhouseDown = "clickhouse-down"
    case brownout
    case lossyProvider = "lossy-provider"
    case webhookDisorder = "webhooks-disorder"
    case cancelMidSend = "cancel-mid-send"

    /// What the fault is, for `--help` and the table's legend.
    var summary: String {
        switch self {
        case .hostKilled: "the host (every role) killed -9 a third through, and started again"
        case .redisRestart: "Redis stopped and started again"
        case .redisLostWrites: "Redis killed -9 and started without the last 512 KiB of its AOF (scripts/stack lose redis)"
        case .redisFlushed: "FLUSHALL on the stack's Redis (every key of every deployment on it)"
        case .natsRestart: "NATS stopped and started again"
        case .natsLeaderKilled: "with --cluster: the NATS node leading the work stream killed -9, and started again 15 s later"
        case .postgresRestart: "PostgreSQL stopped and started again"
        case .clickhouseDown: "ClickHouse stopped for a minute (10 s with --short); analytics must catch up"
        case .brownout: "every provider answer takes 20 s (5 s with --short), for a batch of a twentieth of the recipients"
        case .lossyProvider: "10% of answers lost after acceptance, 20% 429s, 5% 5xx"
        case .webhookDisorder: "delivery webhooks sent with 20% duplicates and up to 1.5 s of jitter (out of order)"
        case .cancelMidSend: "the batch cancelled a third through"
        }
    }

    /// The ones `--short` runs (scripts/test): each kind of loss once, in a minute or so.
    static let short: [Fault] = [.hostKilled, .redisFlushed, .redisLostWrites, .lossyProvider, .cancelMidSend]

    /// The ones `--cluster` runs: a node of the three lost under the batch.
    static let cluster: [Fault] = [.natsLeaderKilled]

    /// Whether the fault needs the three-node NATS cluster (`--cluster`).
    var needsCluster: Bool { self == .natsLeaderKilled }

    /// The sandbox's `[faults.…]` and `[webhooks]` tables for this fault.
    func sandboxTables(provider: String, short: Bool) -> String {
        switch self {
        case .brownout: "[faults.\(provider)]\nslow = 1.0\nslow_ms = \(short ? 5_000 : 20_000)\n"
        case .lossyProvider: "[faults.\(provider)]\nlost_response = 0.1\nrate_limited = 0.2\nserver_error = 0.05\n"
        case .webhookDisorder: "[webhooks]\nduplicate_rate = 0.2\nlatency_ms = [20, 1500]\n"
        default: ""
        }
    }

    /// The recipients of this fault's batch: a brownout's answers take so long that a full batch would take
    /// many minutes.
    func recipients(of count: Int) -> Int { self == .brownout ? max(30, count / 20) : count }

    /// Whether the sandbox sends delivery webhooks back during this fault's batch.
    var webhooks: Bool { self == .webhookDisorder }
}
