import App
import ArgumentParser
import Foundation
import HostCore
import ProviderModel
import SenderAPI

/// `batchsender bench`: benchmarks that need the whole system.
public struct BenchCommand: AsyncParsableCommand {
    public init() {}
    public static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks of the whole system (stack, sandbox, host).", subcommands: [E2EBenchCommand.self, WebhookBenchCommand.self, AnalyticsBenchCommand.self])
}

/// `batchsender bench e2e`: starts the sandbox and `batchsender serve` from this executable against the
/// local stack, sends a batch of N recipients through each chosen provider, and prints end-to-end
/// messages/s, the CPU seconds and peak memory of every process, and the raw JetStream rate of this
/// machine measured in the same run. Exits 1 when a batch does not complete or disagrees with the sandbox.
struct E2EBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "e2e",
        abstract: "Send N recipients end to end through a provider and print messages/s, CPU per process and the raw JetStream rate.",
        discussion: "Needs the local stack (scripts/stack up) and its environment (.env.dev). Build with -c release for figures worth quoting.")

    @Option(help: "Recipients per batch.")
    var recipients: Int = 1_000_000

    @Option(help: "resend, ses, telnyx, webhook, or all (one batch each).")
    var provider: String = "resend"

    @Option(help: "The port for the sandbox this run starts.")
    var sandboxPort: Int = 6190

    @Option(help: "The port for the host this run starts.")
    var apiPort: Int = 6091

    @Flag(help: "Skip measuring the raw JetStream rate.")
    var noRaw = false

    @Option(help: "Sender lanes of the host (its [pipeline] sender_lanes).")
    var senderLanes: Int = 4

    @Option(name: .customLong("pipeline"), help: "A [pipeline] setting for the host, KEY=VALUE (repeatable), e.g. page_size=2000.")
    var pipelineSettings: [String] = []

    @Flag(help: "Also take the sandbox's delivery webhooks back (Resend, SES, Telnyx: each config's own URL; held in the sandbox while each batch sends, then let go) and wait until every recipient's final status agrees with the fate the sandbox planned.")
    var webhooks = false

    @Option(help: "Also send the recipients split over this many tenants at once (after one tenant alone) and print both throughputs, their ratio and the spread of the tenants' finishing times.")
    var tenants: Int = 1

    @Option(help: "With --tenants: how many times to run the pair of passes (alternating which goes first, as the database grows); the median ratio is printed (the machines are noisy).")
    var repeats: Int = 3

    @Flag(help: "Exit 1 when a batch's CPU per message, per process, is above the platform's goals (CPUGoals: Resend's whole pipeline, the one-message providers' host), after printing which.")
    var check = false

    @Flag(help: "Send in the database DATABASE_URL names and keep the batches; by default a scratch database and Redis prefix are made for the run and dropped after it, so runs do not measure each other's leftovers.")
    var keep = false

    func run() async throws {
        guard (1...10_000_000).contains(recipients) else { throw ValidationError("--recipients must be 1 to 10,000,000") }
        guard (1...1_000).contains(tenants) else { throw ValidationError("--tenants must be 1 to 1,000") }
        guard tenants == 1 || (provider != "all" && !webhooks) else { throw ValidationError("--tenants takes one --provider and no --webhooks") }
        guard !check || tenants == 1 else { throw ValidationError("--check measures batches sent alone, not --tenants") }
        guard (1...20).contains(repeats) else { throw ValidationError("--repeats must be 1 to 20") }
        let providers: [DeliveryRun.Provider]
        if provider == "all" { providers = DeliveryRun.Provider.allCases } else {
            guard let one = DeliveryRun.Provider(rawValue: provider) else {
                throw ValidationError("--provider must be resend, ses, telnyx, webhook or all, not \(provider)")
            }
            providers = [one]
        }
        let environment: HostEnvironment
        do { environment = try HostEnvironment(ProcessInfo.processInfo.environment) } catch { throw CommandFailure(error.description) }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("batchsender-bench-\(getpid())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let scratch = keep ? nil : try ScratchDeployment(environment: environment)
        defer { scratch?.drop() }
        var childEnvironment = ProcessInfo.processInfo.environment
        if let scratch { childEnvironment["DATABASE_URL"] = scratch.databaseURL }
        let redisPrefix = scratch?.redisPrefix ?? APISettings().redisKeyPrefix

        var raw: RawJetStreamRate.Figures?
        if !noRaw {
            Output.line("measuring the raw JetStream rate (\(recipients) messages of 200 B, async publish then pull + ack)…")
            raw = try RawJetStreamRate(natsURL: environment.natsURL).measure(messages: recipients)
        }

        let pipeline = ["sender_lanes = \(senderLanes)", "sync_interval_ms = 500", "discover_interval_ms = 100"]
            + pipelineSettings.map { $0.replacingOccurrences(of: "=", with: " = ") }
        try SandboxedRun.hostConfig(redisPrefix: redisPrefix, apiPort: apiPort, sandboxPort: sandboxPort, pipeline: pipeline)
            .write(toFile: work + "/host.toml", atomically: true, encoding: .utf8)
        try SandboxedRun.sandboxConfig.write(toFile: work + "/sandbox.toml", atomically: true, encoding: .utf8)
        let host = try ChildProcess(name: "host", executable: executable,
                                    arguments: ["serve", "--port", String(apiPort), "--web-port", "0", "--config", work + "/host.toml", "--log-level", "warning"],
                                    environment: childEnvironment, logPath: work + "/host.log", readyText: "api listening")
        defer { host.stop() }
        let key = try Self.apiKey(executable: executable, environment: childEnvironment)
        let http = CurlHTTPClient()
        defer { http.shutdown() }
        let run = DeliveryRun(api: APIClient(base: "http://127.0.0.1:\(apiPort)", key: key, http: http),
                              sandboxURL: "http://127.0.0.1:\(sandboxPort)", recipients: recipients, webhooks: webhooks)
        // The send-configs come first: with webhooks, the sandbox is told each one's own URL.
        var configs: [DeliveryRun.Provider: String] = [:]
        for provider in providers { configs[provider] = try await run.createConfig(provider) }
        let webhookURLs = webhooks ? providers.filter(\.hasWebhooks).flatMap { provider in
            ["--webhook-url", "\(provider.rawValue)=http://127.0.0.1:\(apiPort + 1)/webhooks/\(provider.rawValue)/\(configs[provider]!)"]
        } : []
        let sandbox = try ChildProcess(name: "sandbox", executable: executable,
                                       arguments: ["sandbox", "--port", String(sandboxPort), "--config", work + "/sandbox.toml", "--log-level", "error"]
                                           + webhookURLs,
                                       logPath: work + "/sandbox.log", readyText: "sandbox listening")
        defer { sandbox.stop() }

        let stack = ChildProcess.stackServers()
        let watched: [(String, [ChildProcess])] = [("host (all roles)", [host]), ("sandbox", [sandbox])] + stack
        // The stack's processes are found anew at each look, each with its ended children: PostgreSQL forks a process
        // per connection and per autovacuum worker, and one that ends within a run leaves its CPU with the server.
        func cpu() -> [Double] {
            let now = Dictionary(uniqueKeysWithValues: ChildProcess.stackServers())
            return watched.map { name, processes in (now[name] ?? processes).reduce(0) { $0 + $1.cpuSecondsWithChildren } }
        }
        if tenants > 1 {
            let executable = self.executable, environment = childEnvironment
            let split = TenantsRun(run: run, provider: providers[0], tenants: tenants) {
                try Self.apiKey(executable: executable, environment: environment)
            }
            func median(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.sorted()[values.count / 2] }
            var ratios: [Double] = []
            var allCompleted = true
            for run in 1...max(1, repeats) {
                let (one, many) = try await split.measure(offset: (run - 1) * 2 * recipients, manyFirst: run % 2 == 0) { Output.line($0) }
                Output.line("")
                for pass in [one, many] {
                    Output.line(String(format: "run %d, %4d tenant%@: %d messages in %.2f s, %.0f msg/s; finishing times %.2f / %.2f / %.2f s (first / median / last)",
                                       run, pass.tenants, pass.tenants == 1 ? " " : "s", pass.messages, pass.seconds, pass.perSecond,
                                       pass.finishing.first ?? 0, median(pass.finishing), pass.finishing.last ?? 0))
                }
                let ratio = one.perSecond > 0 ? many.perSecond / one.perSecond : 0
                ratios.append(ratio)
                Output.line(String(format: "run %d: %d tenants at once send at %.0f%% of one tenant's rate; their finishing times spread over %.2f s",
                                   run, tenants, 100 * ratio, (many.finishing.last ?? 0) - (many.finishing.first ?? 0)))
                allCompleted = allCompleted && one.completed && many.completed
            }
            Output.line(String(format: "median over %d runs: %d tenants send at %.0f%% of one tenant's rate (runs: %@)", ratios.count, tenants,
                               100 * median(ratios), ratios.map { String(format: "%.0f%%", 100 * $0) }.joined(separator: ", ")))
            guard allCompleted else { throw CommandFailure("a batch did not complete (logs in \(work))", exitCode: 1) }
            try? FileManager.default.removeItem(atPath: work)
            return
        }
        var cpuSending = [Double](repeating: 0, count: watched.count)
        var cpuAtSend: [Double] = []
        // Each batch's own CPU seconds per process, from its send to its completion.
        var cpuOfBatch: [[Double]] = []
        var outcomes: [DeliveryRun.Outcome] = []
        let interactive = isatty(1) == 1
        for provider in providers {
            let outcome = try await run.run(provider, configID: configs[provider]!, sending: { starting in
                if starting { cpuAtSend = cpu() } else {
                    let spent = zip(cpu(), cpuAtSend).map { $0 - $1 }
                    cpuOfBatch.append(spent)
                    cpuSending = zip(cpuSending, spent).map { $0 + $1 }
                }
            }, progress: { line in
                if interactive { Output.raw("\r\u{1B}[K" + line) } else { Output.line(line) }
            })
            if interactive { Output.raw("\n") }
            outcomes.append(outcome)
        }
        // Asked after every batch ran: the event writer's last blocks (5 s apart) have landed by then.
        for index in outcomes.indices { outcomes[index].analytics = try await run.analytics(outcomes[index]) }

        Output.line("")
        Output.line(pad("provider", 9) + pad("status", 11) + ["sent", "failed", "seconds", "msg/s", "sandbox got", "duplicates"]
            .enumerated().map { index, name in
                let width = [10, 8, 9, 11, 12, 10][index]
                return String(repeating: " ", count: max(0, width - name.count)) + name
            }.joined(separator: " "))
        for o in outcomes {
            Output.line(pad(o.provider.rawValue, 9) + pad(o.status, 11) + String(format: "%10d %8d %9.2f %11.0f %12d %10d", o.sent, o.failed,
                                                                                   o.seconds, o.messagesPerSecond, o.sandboxAccepted,
                                                                                   o.sandboxDuplicates))
        }
        for o in outcomes where !o.planned.isEmpty {
            func list(_ counts: [String: Int]) -> String { counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") }
            Output.line("\(o.provider.rawValue) after its webhooks: \(list(o.statuses))"
                        + (o.statuses == o.planned ? " — as the sandbox planned" : " — the sandbox planned \(list(o.planned))")
                        + (o.webhookSeconds.map { String(format: ", %.1f s after the sandbox let them go", $0) } ?? ""))
        }
        for o in outcomes { if let line = o.analytics { Output.line(line) } }
        if let raw {
            Output.line(String(format: "raw JetStream on this machine: publish %.0f msg/s, pull+ack %.0f msg/s, through %.0f msg/s",
                               raw.publishPerSecond, raw.consumePerSecond, raw.throughPerSecond))
            for o in outcomes {
                Output.line(String(format: "  %@ end to end is %.0f%% of the raw JetStream rate", o.provider.rawValue,
                                   100 * o.messagesPerSecond / raw.throughPerSecond))
            }
        }
        let messages = outcomes.reduce(0) { $0 + $1.sent + $1.failed }
        Output.line(String(format: "CPU seconds from each send to its completion (uploads not counted), µs per message, and peak memory, per process (%d messages):", messages))
        for (index, (name, processes)) in watched.enumerated() where !(name == "clickhouse" && cpuSending[index] < 0.5) {
            let peak = processes.map(\.peakMiB).max() ?? 0
            Output.line("  " + pad(name, 18) + String(format: "%8.2f s CPU %8.1f µs/msg   peak %7.1f MiB", cpuSending[index],
                                                      messages > 0 ? cpuSending[index] * 1e6 / Double(messages) : 0, peak)
                        + (processes.count > 1 ? " (largest of \(processes.count) processes)" : ""))
        }
        var misses: [String] = []
        for (outcome, spent) in zip(outcomes, cpuOfBatch) {
            let messages = outcome.sent + outcome.failed
            guard messages > 0 else { continue }
            var perMessage: [String: Double] = [:]
            for (index, (name, _)) in watched.enumerated() { perMessage[name] = spent[index] * 1e6 / Double(messages) }
            if outcomes.count > 1 {
                Output.line("  " + outcome.provider.rawValue + ": " + watched.map { name, _ in String(format: "%@ %.1f", name, perMessage[name] ?? 0) }
                    .joined(separator: ", ") + " µs/msg")
            }
            guard check else { continue }
            misses += CPUGoals.goals(for: outcome.provider).misses(perMessage).map { "\(outcome.provider.rawValue): \($0)" }
        }
        if check {
            if misses.isEmpty { Output.line("check: every batch within its CPU goals") }
            for miss in misses { Output.line("check: over the goal: " + miss) }
        }
        guard outcomes.allSatisfy(\.agrees) else {
            throw CommandFailure("a batch did not complete or disagrees with the sandbox's count (logs in \(work))", exitCode: 1)
        }
        try? FileManager.default.removeItem(atPath: work)
        if !misses.isEmpty { throw CommandFailure("\(misses.count) CPU figure(s) over the goals (--check)", exitCode: 1) }
    }

    private var executable: String { URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    /// A new API key, through `batchsender apikey create`.
    static func apiKey(executable: String, environment: [String: String]) throws -> String {
        let process = Process()
        process.environment = environment
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["apikey", "create", "--email", "bench-\(UUID().uuidString.prefix(8).lowercased())@bench.example", "--name", "bench"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let key = JSONValue.parse(Array(data))?["key"]?.stringValue else {
            throw CommandFailure("apikey create failed: \(String(decoding: data, as: UTF8.self))")
        }
        return key
    }
}
