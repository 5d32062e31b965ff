import App
import Foundation
import HostCore
import Messaging
import Persistence
import ProviderModel

/// Runs one fault at a time against a host and a sandbox of its own: a batch of `recipients` through
/// `provider`, under a send-config limit that binds (the batch takes about ten seconds at it), the fault
/// injected a third of the way through and mended, then the batch followed to its end and checked where
/// its recipients would see it: each reached once, counters equal to rows, nothing stuck.
struct FaultMatrix {
    let executable: String
    let work: String
    let environment: [String: String]
    let databaseURL: String
    let redisURL: String
    let redisPrefix: String
    /// The run's own deployment: its streams, subjects and analytics database apart from every other on the servers.
    let deployment: String
    /// NATS_URL of the run's hosts (the cluster's list with `--cluster`), and the replicas its streams get.
    let natsURL: String
    let replicas: Int
    let stack: StackScript
    let provider: DeliveryRun.Provider
    let recipients: Int
    let short: Bool
    let apiPort: Int
    let sandboxPort: Int
    let key: String
    let http: CurlHTTPClient

    /// What the sender lanes hold at once: the most a Redis that dies with them can make it send twice.
    static let senderLanes = 2, fetchBatch = 4

    /// How long the killed cluster node stays dead.
    static let deadNodeSeconds = 15
    /// The ack wait of the short and cluster runs.
    static let quickAckWaitMs = 5_000

    /// Messages per second the send-config may send: the batch takes about ten seconds at it.
    var rate: Int { max(20, recipients / 10) }

    var sandboxURL: String { "http://127.0.0.1:\(sandboxPort)" }

    func hostConfig(for fault: Fault) -> String {
        SandboxedRun.hostConfig(redisPrefix: redisPrefix, apiPort: apiPort, sandboxPort: sandboxPort,
                                // Answers of 20 s (the brownout) are answers, not timeouts: 20 s is the default.
                                pipeline: ["sender_lanes = \(Self.senderLanes)", "fetch_batch = \(Self.fetchBatch)", "sync_interval_ms = 500",
                                           "discover_interval_ms = 100", "http_timeout_ms = 30000"]
                                    // A recipient whose attempts run out on transient faults ends failed, which the matrix
                                    // counts as lost: the lossy provider's run does not leave that to chance (docs/faults.md).
                                    + (fault == .lossyProvider ? ["max_attempts = 12", "backoff_max_ms = 4000"] : [])
                                    // On the cluster too: a leader change loses the acks and naks in flight, whose jobs
                                    // come back after the ack wait.
                                    + (short || replicas > 1 ? ["ack_wait_ms = \(Self.quickAckWaitMs)", "claim_hold_ms = 10000"] : []),
                                deployment: ["[deployment]", "name = \"\(deployment)\"", "[nats]", "replicas = \(replicas)"])
    }

    func startHost() throws -> ChildProcess {
        try ChildProcess(name: "host", executable: executable,
                         arguments: ["serve", "--port", String(apiPort), "--web-port", "0", "--config", work + "/host.toml", "--log-level", "warning"],
                         environment: environment, logPath: work + "/host.log", readyText: "api listening", appending: true)
    }

    func startSandbox(_ fault: Fault, webhookURL: String?) throws -> ChildProcess {
        let path = work + "/sandbox-\(fault.rawValue).toml"
        try (SandboxedRun.sandboxConfig + fault.sandboxTables(provider: provider.rawValue, short: short)).write(toFile: path, atomically: true, encoding: .utf8)
        return try ChildProcess(name: "sandbox", executable: executable,
                                arguments: ["sandbox", "--port", String(sandboxPort), "--config", path, "--log-level", "error"]
                                    + (webhookURL.map { ["--webhook-url", "\(provider.rawValue)=\($0)"] } ?? []),
                                logPath: work + "/sandbox.log", readyText: "sandbox listening", appending: true)
    }

    func run(_ fault: Fault, offset: Int) async throws -> FaultRow {
        try hostConfig(for: fault).write(toFile: work + "/host.toml", atomically: true, encoding: .utf8)
        let host = try HostSlot(start: startHost)
        defer { host.stop() }
        let api = APIClient(base: "http://127.0.0.1:\(apiPort)", key: key, http: http)
        var batch: String?
        do {
            let row = try await measure(fault, offset: offset, host: host, api: api) { batch = $0 }
            try await leaveNothingBehind(batch, api: api)
            return row
        } catch {
            try? await leaveNothingBehind(batch, api: api)
            throw error
        }
    }

    /// A batch that did not finish is cancelled before its host stops, or the next fault's host would send the
    /// rest of it to the next fault's sandbox.
    func leaveNothingBehind(_ batch: String?, api: APIClient) async throws {
        guard let batch else { return }
        _ = try await api.call("POST", "/api/batches/\(batch)/cancel", expect: [200, 409])
    }

    func measure(_ fault: Fault, offset: Int, host: HostSlot, api: APIClient, made: (String) -> Void) async throws -> FaultRow {
        let recipients = fault.recipients(of: self.recipients)
        var row = FaultRow(fault: fault, recipients: recipients)
        let delivery = DeliveryRun(api: api, sandboxURL: sandboxURL, recipients: recipients, webhooks: fault.webhooks)
        let config = try await delivery.createConfig(provider)
        _ = try await api.call("PATCH", "/api/send-configs/\(config)", json: .object(["rateLimit": .number(Double(rate))]))
        let sandbox = try startSandbox(fault, webhookURL: fault.webhooks ? "http://127.0.0.1:\(apiPort + 1)/webhooks/\(provider.rawValue)/\(config)" : nil)
        defer { sandbox.stop() }
        let batch = try await delivery.upload(provider, configID: config, count: recipients, offset: offset)
        made(batch)
        let started = Date()
        _ = try await api.call("POST", "/api/batches/\(batch)/send")
        guard try await waitAccepted(atLeast: recipients / 3, seconds: 120) else {
            row.stuck = true
            row.note = "never reached a third"
            return row
        }

        // The fault, and when it was mended.
        let faultAt = Date()
        var mended: Task<Void, any Error>?
        var acceptedAtCancel: Int?
        /// Sent while the cluster node was dead, and what was left to send when it died.
        var deadWindow: Task<(sent: Int, left: Int), any Error>?
        switch fault {
        case .hostKilled: try host.killAndRestart()
        case .redisRestart: try await stack.run(["restart", "redis"])
        case .redisLostWrites: try await stack.run(["lose", "redis"])
        case .redisFlushed: _ = try RedisConnection(url: redisURL).command(["FLUSHALL"])
        case .natsRestart: try await stack.run(["restart", "nats"])
        case .natsLeaderKilled:
            let leader = try await streamLeader()
            let before = try await accepted()
            try await stack.run(["cluster", "kill", leader])
            let matrix = self
            deadWindow = Task {
                try await Task.sleep(for: .seconds(Self.deadNodeSeconds))
                let during = try await matrix.accepted() - before
                try await matrix.stack.run(["cluster", "start", leader])
                return (during, recipients - before)
            }
            row.note = "killed \(leader), which led the work stream"
        case .postgresRestart: try await stack.run(["restart", "postgres"])
        case .clickhouseDown:
            let stack = self.stack, pause = short ? 10 : 60
            mended = Task { try await stack.run(["restart", "clickhouse", "--pause", String(pause)]) }
        case .cancelMidSend:
            _ = try await api.call("POST", "/api/batches/\(batch)/cancel")
            acceptedAtCancel = try await accepted()
        case .brownout, .lossyProvider, .webhookDisorder: break
        }
        if [.hostKilled, .redisRestart, .redisLostWrites, .redisFlushed, .natsRestart, .natsLeaderKilled, .postgresRestart].contains(fault) {
            row.recoverSeconds = try await resumed(after: faultAt, batch: batch)
        }

        let detail = try await settle(batch, seconds: short ? 120 : 600)
        row.seconds = Date().timeIntervalSince(started)
        row.status = detail["status"]?.stringValue ?? ""
        row.sent = detail["counts"]?["sent"]?.int ?? 0
        row.stuck = !["completed", "cancelled"].contains(row.status)
        let rows = try rowsByStatus(batch)
        let counters = ["sent", "failed", "cancelled"].reduce(into: [String: Int]()) { $0[$1] = detail["counts"]?[$1]?.int ?? 0 }
        row.countersMatchRows = counters.allSatisfy { rows[$0.key, default: 0] == $0.value }
        let stats = try await APIClient.get(sandboxURL + "/sandbox/stats", http: http)[provider.rawValue] ?? .null
        let acceptedAll = stats["messages_accepted"]?.int ?? 0
        row.duplicates = stats["duplicate_deliveries"]?.int ?? 0
        row.allowedDuplicates = allowedDuplicates(fault, faultsInjected: stats["faults_injected"]?.int ?? 0)
        if fault == .cancelMidSend {
            // Every recipient sent or cancelled, the sent ones exactly those the sandbox took, and nothing taken
            // after the cancel was answered.
            let after = acceptedAll - (acceptedAtCancel ?? acceptedAll)
            let unaccounted = recipients - rows["sent", default: 0] - rows["cancelled", default: 0]
            let disagreeing = abs(acceptedAll - row.duplicates - rows["sent", default: 0])
            row.lost = unaccounted + disagreeing + after
            row.note = "\(rows["cancelled", default: 0]) cancelled, \(after) accepted after the cancel's answer"
        } else {
            // A recipient the sandbox never took is lost; so is one it took that the batch does not count as sent
            // (failed after its attempts, or still waiting).
            row.lost = max(recipients - (acceptedAll - row.duplicates), recipients - row.sent)
        }
        if fault == .clickhouseDown {
            try await mended?.value
            let counted = try await analyticsSent(batch, want: row.sent, seconds: 90)
            row.lost += row.sent - counted
            row.note = "analytics counted \(counted) sent after ClickHouse came back"
        }
        if fault == .webhookDisorder {
            var outcome = DeliveryRun.Outcome(provider: provider, batchID: batch, status: row.status, sent: row.sent, failed: 0, seconds: row.seconds,
                                              sandboxAccepted: acceptedAll, sandboxDuplicates: 0)
            try await delivery.settle(&outcome) { _ in }
            let wrong = Set(outcome.planned.keys).union(outcome.statuses.keys).reduce(0) {
                $0 + abs(outcome.planned[$1, default: 0] - outcome.statuses[$1, default: 0])
            } / 2
            row.lost += wrong
            row.note = "\(stats["webhooks_sent"]?.int ?? 0) webhooks sent; \(wrong) recipients' statuses not as the sandbox planned"
        }
        if fault == .lossyProvider { row.note = "\(stats["faults_injected"]?.int ?? 0) faults injected" }
        if fault == .natsLeaderKilled, let window = try await deadWindow?.value {
            let after = try await streamLeader()
            row.note += "; \(window.sent) sent in the \(Self.deadNodeSeconds) s it was dead; \(after) leads it now, \(replicas) replicas"
            // A cluster is there so that work goes on without the node. The leader change costs the election (a few
            // seconds) and the ack wait of the jobs whose acks and naks it lost; after those, sending goes on at the
            // limit's rate. Half of that is the bar: sending that waited for the node to come back (a stream with one
            // replica, a client that knew only that server) sends next to nothing while it is dead.
            let resumedSeconds = Self.deadNodeSeconds - 3 - Self.quickAckWaitMs / 1_000
            let expected = min(window.left, rate * resumedSeconds) / 2
            if window.sent < expected {
                row.stuck = true
                row.note += "; fewer than \(expected) (half of what was left, or of what the limit allows after the election and the ack wait, "
                    + "whichever is less): sending waited for the dead node"
            }
        }
        return row
    }

    /// Duplicates a fault may cause: none, but for a Redis that lost writes with sends in flight (a round whose
    /// record failed comes back to a state without it and is sent again: at most what the sender lanes hold),
    /// and for SES, which takes no idempotency key, under lost answers (at most one per fault injected).
    func allowedDuplicates(_ fault: Fault, faultsInjected: Int) -> Int {
        switch fault {
        case .redisLostWrites:
            Self.senderLanes * Self.fetchBatch * (provider == .resend ? 100 : provider == .ses ? 50 : 1)
        case .lossyProvider where provider == .ses: faultsInjected
        default: 0
        }
    }

    /// The cluster node that leads the run's work stream now.
    func streamLeader() async throws -> String {
        try await StreamLeader.of(deployment: deployment, natsURL: natsURL, replicas: replicas)
    }

    func accepted() async throws -> Int {
        try await APIClient.get(sandboxURL + "/sandbox/stats", http: http)[provider.rawValue]?["messages_accepted"]?.int ?? 0
    }

    func waitAccepted(atLeast count: Int, seconds: Double) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await accepted() >= count { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// Seconds from the fault until the sandbox takes a message again once it is mended; nil when the batch
    /// ended first.
    func resumed(after faultAt: Date, batch: String) async throws -> Double? {
        let base = try await accepted()
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline {
            if try await accepted() > base { return Date().timeIntervalSince(faultAt) }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    /// The batch once it is completed or cancelled, or as it stands after `seconds`.
    func settle(_ batch: String, seconds: Double) async throws -> JSONValue {
        try await Self.settle(batch, api: APIClient(base: "http://127.0.0.1:\(apiPort)", key: key, http: http), seconds: seconds)
    }

    /// The batch once it is completed or cancelled, or as it stands after `seconds`.
    static func settle(_ batch: String, api: APIClient, seconds: Double) async throws -> JSONValue {
        let deadline = Date().addingTimeInterval(seconds)
        var detail = JSONValue.null
        while Date() < deadline {
            // The API may be away a moment (a restarted server): asked again.
            if let read = try? await api.call("GET", "/api/batches/\(batch)") {
                detail = read
                if ["completed", "cancelled"].contains(read["status"]?.stringValue ?? "") {
                    // Its counters are synced every 500 ms: the last sync after the last outcome.
                    try await Task.sleep(for: .seconds(1))
                    return try await api.call("GET", "/api/batches/\(batch)")
                }
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        return detail
    }

    func rowsByStatus(_ batch: String) throws -> [String: Int] { try Self.rowsByStatus(batch, databaseURL: databaseURL) }

    /// A batch's recipient rows per status, a row with a provider message id counting as sent.
    static func rowsByStatus(_ batch: String, databaseURL: String) throws -> [String: Int] {
        let db = try PostgresConnection(url: databaseURL)
        var rows: [String: Int] = [:]
        // A row a provider's webhook moved on (delivered, bounced, failed after acceptance) was sent: it has the
        // provider's message id, and the batch's counters count it as sent.
        for row in try db.query("""
            SELECT CASE WHEN provider_message_id IS NOT NULL THEN 'sent' ELSE status END, count(*) FROM recipients
            WHERE batch_id = $1 GROUP BY 1
            """, [batch]) {
            if let status = row[0], let count = row[1].flatMap({ Int($0) }) { rows[status] = count }
        }
        return rows
    }

    /// The batch's `sent` as the analytics API counts it, once it reaches `want` or after `seconds`.
    func analyticsSent(_ batch: String, want: Int, seconds: Double) async throws -> Int {
        let api = APIClient(base: "http://127.0.0.1:\(apiPort)", key: key, http: http)
        let deadline = Date().addingTimeInterval(seconds)
        var counted = 0
        while Date() < deadline {
            let stats = try await api.call("GET", "/api/batches/\(batch)/stats", expect: [200, 503])
            counted = stats["counts"]?["sent"]?.int ?? 0
            if counted >= want { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        return counted
    }
}

/// The host a fault runs against, which a fault may kill and start again.
final class HostSlot: @unchecked Sendable {
    private let start: () throws -> ChildProcess
    private var process: ChildProcess

    init(start: @escaping () throws -> ChildProcess) throws {
        self.start = start
        process = try start()
    }

    /// kill -9, then a new host (its jobs come back to it after their ack wait).
    func killAndRestart() throws {
        process.kill9()
        process = try start()
    }

    func stop() { process.stop() }
}
