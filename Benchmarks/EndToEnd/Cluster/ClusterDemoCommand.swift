import App
import ArgumentParser
import Foundation
import HostCore
import Messaging
import Persistence
import ProviderModel
import SenderAPI

/// `batchsender cluster-demo`: every role apart, several processes of each, on the three-node NATS cluster; a
/// Resend batch and a webhook-channel batch sent under binding limits while a NATS node, a sender, a processor
/// and the leading discoverer are killed -9 in turn and started again. Prints what each fault cost, then checks
/// where recipients would see it: each reached once, counters equal to rows, webhooks applied. Then one
/// sender process against three, same machine, same run.
public struct ClusterDemoCommand: AsyncParsableCommand {
    public init() {}
    public static let configuration = CommandConfiguration(
        commandName: "cluster-demo",
        abstract: "Run every role apart (2 API, 2 receivers, 2 processors, 3 senders, 2 webhook processors, 2 discoverer+background) on the NATS cluster, kill a node and a process of each kind under two batches, and check nothing was lost or sent twice beyond its bound.",
        discussion: """
            Needs the stack with its cluster (scripts/stack up --cluster), .env.dev's environment (NATS_CLUSTER_URL among it) and \
            scripts/stack (run from the repository's root). A deployment of its own (streams, Redis keys, analytics database, \
            PostgreSQL database), deleted after the run. Exits 1 when a recipient was lost or reached twice beyond the bound (a killed sender's in-flight webhook-channel messages, sent again under their own webhook-id), a batch did not \
            complete, counters disagree with rows or webhooks were not applied.
            """)

    @Option(help: "Recipients in all, half through Resend, half through the webhook channel.")
    var recipients = 200_000

    @Option(help: "Messages per second each send-config may send (the batches take recipients / 2 / rate seconds).")
    var rate = 1_500

    @Option(help: "Recipients of each batch of the one-sender against three-senders comparison (0: none).")
    var compare = 50_000

    @Option(help: "The first of the ports this run uses (API and receiver of each of two configs: 4 ports); the sandbox takes the next.")
    var basePort = 6_410

    @Option(help: "The stack's control script.")
    var stack = "scripts/stack"

    public func run() async throws {
        guard (10_000...2_000_000).contains(recipients) else { throw ValidationError("--recipients must be 10,000 to 2,000,000") }
        guard (100...100_000).contains(rate) else { throw ValidationError("--rate must be 100 to 100,000") }
        guard compare == 0 || (1_000...1_000_000).contains(compare) else { throw ValidationError("--compare must be 0 or 1,000 to 1,000,000") }
        let environment: HostEnvironment
        do { environment = try HostEnvironment(ProcessInfo.processInfo.environment) } catch { throw CommandFailure(error.description) }
        guard let clusterURL = ProcessInfo.processInfo.environment["NATS_CLUSTER_URL"], !clusterURL.isEmpty else {
            throw ValidationError("NATS_CLUSTER_URL is not set: scripts/stack up --cluster, then set -a; . ./.env.dev; set +a")
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("batchsender-cluster-\(getpid())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let script = try StackScript(path: stack, logPath: work + "/stack.log")
        let scratch = try ScratchDeployment(environment: environment)
        defer { scratch.drop() }
        let (childEnvironment, executable, key) = try await scratch.prepared(natsURL: clusterURL)
        let http = CurlHTTPClient()
        defer { http.shutdown() }

        let processes = RoleProcesses(executable: executable, environment: childEnvironment, work: work)
        defer { processes.stopAll() }
        // The run's verdict, or what stopped it: either way its processes stop and its deployment is deleted first.
        let result: Result<(lost: Int, duplicates: Int, verdicts: [String]), any Error>
        do {
            let sandboxPort = basePort + 4
            // Two host configs, alike but for the ports: the API and receiver of process 1 and of process 2.
            let configs = try [basePort, basePort + 2].enumerated().map { index, apiPort in
                let path = work + "/host-\(index + 1).toml"
                try SandboxedRun.hostConfig(redisPrefix: scratch.redisPrefix, apiPort: apiPort, sandboxPort: sandboxPort,
                                            pipeline: ["sync_interval_ms = 500", "discover_interval_ms = 100", "ack_wait_ms = 5000",
                                                       "claim_hold_ms = 10000", "lease_ms = 3000"],
                                            deployment: ["[deployment]", "name = \"\(scratch.deployment)\"", "[nats]", "replicas = 3"])
                    .write(toFile: path, atomically: true, encoding: .utf8)
                return path
            }
            func kind(_ name: String, _ roles: String, _ count: Int, api: Bool = false) -> RoleProcesses.Kind {
                RoleProcesses.Kind(name: name, roles: roles, count: count, config: { configs[($0 - 1) % 2] },
                                   apiPort: { api ? [basePort, basePort + 2][($0 - 1) % 2] : nil })
            }
            let kinds = [kind("api", "api", 2, api: true), kind("receiver", "receiver", 2), kind("control", "discoverer,background", 2),
                         kind("processor", "processor", 2), kind("sender", "sender", 3), kind("webhook-processor", "webhook-processor", 2)]
            for kind in kinds { try processes.start(kind) }
            Output.line("cluster demo: deployment \(scratch.deployment) on the NATS cluster (3 replicas), \(processes.running.count) processes: "
                        + kinds.map { "\($0.count) \($0.name)" }.joined(separator: ", ") + "; logs in \(work)")

            let api = APIClient(base: "http://127.0.0.1:\(basePort)", key: key, http: http)
            let sandboxURL = "http://127.0.0.1:\(sandboxPort)"
            let half = recipients / 2
            let delivery = DeliveryRun(api: api, sandboxURL: sandboxURL, recipients: half, webhooks: true)
            let resendConfig = try await delivery.createConfig(.resend), webhookConfig = try await delivery.createConfig(.webhook)
            for config in [resendConfig, webhookConfig] {
                _ = try await api.call("PATCH", "/api/send-configs/\(config)", json: .object(["rateLimit": .number(Double(rate))]))
            }
            try SandboxedRun.sandboxConfig.write(toFile: work + "/sandbox.toml", atomically: true, encoding: .utf8)
            // Resend's delivery webhooks go to the first receiver; the second stands beside it, as a load balancer's pool would.
            let sandbox = try ChildProcess(name: "sandbox", executable: executable,
                                           arguments: ["sandbox", "--port", String(sandboxPort), "--config", work + "/sandbox.toml", "--log-level", "error",
                                                       "--webhook-url", "resend=http://127.0.0.1:\(basePort + 1)/webhooks/resend/\(resendConfig)"],
                                           logPath: work + "/sandbox.log", readyText: "sandbox listening")
            defer { sandbox.stop() }
            let progress = SandboxProgress(sandboxURL: sandboxURL, http: http)

            let resendBatch = try await delivery.upload(.resend, configID: resendConfig, count: half)
            let webhookBatch = try await delivery.upload(.webhook, configID: webhookConfig, count: half)
            let started = Date()
            for batch in [resendBatch, webhookBatch] { _ = try await api.call("POST", "/api/batches/\(batch)/send") }
            Output.line("sending \(half) through Resend and \(half) through the webhook channel, each limited to \(rate)/s")

            let faults = ClusterFaults(processes: processes, stack: script, natsURL: clusterURL, deployment: scratch.deployment,
                                       redisURL: environment.redisURL, redisPrefix: scratch.redisPrefix)
            var costs: [(fault: String, stall: Double, twice: Int, note: String)] = []
            for (index, fault) in ClusterFaults.Fault.allCases.enumerated() {
                let at = recipients * (index + 1) / (ClusterFaults.Fault.allCases.count + 2)
                try await progress.wait(atLeast: at, seconds: 600)
                let twiceBefore = try await progress.duplicates().deliveries
                // What it cost: the longest time in the next 15 s in which the sandbox took nothing. Whatever fails
                // on the way, what was killed is started again: the cluster's nodes are shared.
                let note: String, stall: Double
                do {
                    note = try await faults.inject(fault)
                    stall = try await progress.longestStall(seconds: 15, total: recipients)
                } catch {
                    try? await faults.mend(fault)
                    throw error
                }
                try await faults.mend(fault)
                let twice = try await progress.duplicates().deliveries - twiceBefore
                costs.append((fault.rawValue, stall, twice, note))
                Output.line(String(format: "  %@: %@; sending stood still %.1f s at most; %d reached twice meanwhile", fault.rawValue, note, stall, twice))
            }

            var verdicts: [String] = []
            // The most one killed sender can have in flight on the webhook channel (a message a request): its lanes
            // times the chunk jobs each fetches times a chunk's recipients. More re-sends than that had another cause.
            let settings = PipelineSettings()
            let inFlightBound = settings.senderLanes * settings.fetchBatch * settings.singleSendChunk
            var lost = 0, duplicates = 0, resentUnderKey = 0
            for (provider, batch) in [(DeliveryRun.Provider.resend, resendBatch), (.webhook, webhookBatch)] {
                let detail = try await FaultMatrix.settle(batch, api: api, seconds: 600)
                let status = detail["status"]?.stringValue ?? ""
                let sent = detail["counts"]?["sent"]?.int ?? 0
                let rows = try FaultMatrix.rowsByStatus(batch, databaseURL: scratch.databaseURL)
                let counters = ["sent", "failed", "cancelled"].allSatisfy { (detail["counts"]?[$0]?.int ?? 0) == rows[$0, default: 0] }
                let stats = try await APIClient.get(sandboxURL + "/sandbox/stats", http: http)[provider.sandboxSection] ?? .null
                let accepted = stats["messages_accepted"]?.int ?? 0, twice = stats["duplicate_deliveries"]?.int ?? 0
                let sameKey = stats["duplicate_sends"]?.int ?? 0
                lost += max(half - (accepted - twice), half - sent)
                // The webhook channel takes no idempotency key, but every message carries its own as `webhook-id`, which
                // a Standard Webhooks receiver drops when it comes again: a message a killed sender had in flight, sent
                // again under the same id, does not reach its recipient twice. One sent again under another id would.
                duplicates += provider == .webhook ? max(0, twice - sameKey) : twice
                if provider == .webhook { resentUnderKey += min(twice, sameKey) }
                var line = "\(provider.rawValue): \(status), \(sent)/\(half) sent, sandbox took \(accepted) (\(twice) twice, \(sameKey) of them under the same key), "
                    + "counters \(counters ? "=" : "≠") rows"
                if !counters || status != "completed" { verdicts.append("\(provider.rawValue) \(status), counters \(counters ? "=" : "≠") rows") }
                if provider.hasWebhooks {
                    var outcome = DeliveryRun.Outcome(provider: provider, batchID: batch, status: status, sent: sent, failed: 0, seconds: 0,
                                                      sandboxAccepted: accepted, sandboxDuplicates: twice)
                    try await delivery.settle(&outcome) { _ in }
                    let applied = outcome.statuses == outcome.planned
                    let statuses: [String] = outcome.statuses.keys.sorted().map { "\($0) \(outcome.statuses[$0] ?? 0)" }
                    line += "; webhooks \(applied ? "applied" : "NOT applied"): " + statuses.joined(separator: ", ")
                    if !applied { verdicts.append("resend webhooks not applied as planned (\(outcome.planned))") }
                }
                Output.line(line)
            }
            if resentUnderKey > inFlightBound {
                verdicts.append("\(resentUnderKey) webhook-channel messages sent again under their own key, more than one sender holds (\(inFlightBound))")
            }
            Output.line(String(format: "both batches in %.1f s; %d lost; %d recipients reached twice: %d of them webhook-channel messages a killed "
                               + "sender had in flight, sent again under their own webhook-id (the bound for a channel without idempotency: "
                               + "a Standard Webhooks receiver drops them), %d beyond that bound",
                               Date().timeIntervalSince(started), lost, duplicates + resentUnderKey, resentUnderKey, duplicates))
            Output.line("")
            Output.line("fault                   stood still  twice  what happened")
            for cost in costs {
                Output.line(cost.fault.padding(toLength: 22, withPad: " ", startingAt: 0) + String(format: " %9.1f s  %5d  ", cost.stall, cost.twice) + cost.note)
            }

            if compare > 0 {
                Output.line("")
                let comparison = SenderScaling(processes: processes, delivery: DeliveryRun(api: api, sandboxURL: sandboxURL, recipients: compare),
                                               api: api, progress: progress)
                try await comparison.measure(count: compare, offset: half)
            }
            result = .success((lost, duplicates, verdicts))
        } catch {
            result = .failure(error)
        }
        // Everything of the run stopped before its streams and tables go, or its processes would complain of them.
        processes.stopAll()
        await scratch.dropDeployment(natsURL: clusterURL, clickhouseURL: environment.clickhouseURL, replicas: 3, http: http)
        let lost: Int, duplicates: Int, verdicts: [String]
        do { (lost, duplicates, verdicts) = try result.get() } catch {
            throw CommandFailure("the cluster demo stopped: \(error) (logs in \(work))")
        }
        if lost > 0 || duplicates > 0 || !verdicts.isEmpty {
            throw CommandFailure("the cluster lost or duplicated messages, or left work undone: \(lost) lost, \(duplicates) twice beyond the bound; "
                                 + verdicts.joined(separator: "; ") + " (logs in \(work))", exitCode: 1)
        }
        try? FileManager.default.removeItem(atPath: work)
    }
}

/// What the sandbox has taken so far (every provider), read as the run goes.
struct SandboxProgress {
    let sandboxURL: String
    let http: CurlHTTPClient

    func accepted() async throws -> Int {
        let stats = try await APIClient.get(sandboxURL + "/sandbox/stats", http: http)
        return DeliveryRun.Provider.allCases.reduce(0) { $0 + (stats[$1.sandboxSection]?["messages_accepted"]?.int ?? 0) }
    }

    /// Recipients reached twice (by recipient and content), and how many of those came again under the same key.
    func duplicates() async throws -> (deliveries: Int, sameKey: Int) {
        let stats = try await APIClient.get(sandboxURL + "/sandbox/stats", http: http)
        return DeliveryRun.Provider.allCases.reduce((0, 0)) {
            ($0.0 + (stats[$1.sandboxSection]?["duplicate_deliveries"]?.int ?? 0), $0.1 + (stats[$1.sandboxSection]?["duplicate_sends"]?.int ?? 0))
        }
    }

    func wait(atLeast count: Int, seconds: Double) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while try await accepted() < count {
            guard Date() < deadline else { throw CommandFailure("the sandbox never took \(count) messages") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The longest stretch within the next `seconds` in which the count did not move (short of `total`, when
    /// nothing is left to take).
    func longestStall(seconds: Double, total: Int) async throws -> Double {
        let end = Date().addingTimeInterval(seconds)
        var last = try await accepted(), since = Date(), longest = 0.0
        while Date() < end, last < total {
            try await Task.sleep(for: .milliseconds(100))
            let now = try await accepted()
            if now != last { (last, since) = (now, Date()) }
            longest = max(longest, Date().timeIntervalSince(since))
        }
        return longest
    }
}
