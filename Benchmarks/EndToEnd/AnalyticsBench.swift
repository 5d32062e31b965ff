import App
import Analytics
import ArgumentParser
import Domain
import Foundation
import HostCore
import Logging
import Messaging
import NIOPosix
import Persistence
import ProviderInstances
import ProviderModel
import SenderAPI
import Templating

/// `batchsender bench analytics`: the event writer's rows/s into ClickHouse (the same writer the roles
/// use, fed as fast as it takes events), then the analytics endpoints' latency through the API over
/// those events. Runs in a ClickHouse database and PostgreSQL database of its own, dropped after.
struct AnalyticsBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analytics",
        abstract: "Write N events through the event writer into ClickHouse (events/s), then time the analytics endpoints over them.",
        discussion: "Needs the local stack (scripts/stack up) and its environment (.env.dev). Build with -c release for figures worth quoting.")

    @Option(help: "Events to write.") var events: Int = 10_000_000
    @Option(help: "Requests per endpoint for the latency figures.") var repeats: Int = 20
    @Option(help: "Events per block (the writer's flush_rows, 1…500,000): the counting views keep a row per block and key, so smaller blocks make longer reads.")
    var blockRows: Int = AnalyticsSettings().flushRows
    @Option(help: "The API's port for this run.") var apiPort: Int = 6094

    func run() async throws {
        guard (1_000...100_000_000).contains(events), (1...1_000).contains(repeats), (1...500_000).contains(blockRows) else {
            throw ValidationError("--events 1,000…100,000,000, --repeats 1…1,000, --block-rows 1…500,000")
        }
        let environment: HostEnvironment
        do { environment = try HostEnvironment(ProcessInfo.processInfo.environment) } catch { throw CommandFailure(error.description) }
        guard let clickhouseURL = environment.clickhouseURL, let base = clickhouseURL.split(separator: "?").first else {
            throw CommandFailure("CLICKHOUSE_URL is not set: run scripts/stack up and load .env.dev")
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("batchsender-bench-analytics-\(getpid())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let scratch = try ScratchDeployment(environment: environment)
        defer { scratch.drop() }
        let http = CurlHTTPClient()
        defer { http.shutdown() }
        let benchURL = "\(base)\(base.hasSuffix("/") ? "" : "/")?database=\(scratch.name)"
        let clickhouse = try ClickHouseClient(url: benchURL, http: http, timeoutMs: 60_000)

        var childEnvironment = ProcessInfo.processInfo.environment
        childEnvironment["DATABASE_URL"] = scratch.databaseURL
        childEnvironment["CLICKHOUSE_URL"] = benchURL
        try (BundledPlugins.paths().map { "[[plugin]]\npath = \"\($0)\"\n" }.joined() + """
            [api]
            redis_key_prefix = "\(scratch.redisPrefix)"
            rate_limit_per_key = 100000
            rate_limit_per_address = 100000
            """).write(toFile: work + "/host.toml", atomically: true, encoding: .utf8)
        let host = try ChildProcess(name: "host", executable: executable,
                                    arguments: ["serve", "--roles", "api", "--port", String(apiPort), "--config", work + "/host.toml",
                                                "--log-level", "warning"],
                                    environment: childEnvironment, logPath: work + "/host.log", readyText: "api listening")
        defer { host.stop() }
        let api = APIClient(base: "http://127.0.0.1:\(apiPort)", key: try E2EBenchCommand.apiKey(executable: executable, environment: childEnvironment),
                            http: http)
        let config = try await api.call("POST", "/api/send-configs", json: .object([
            "name": .string("bench"), "provider": .string("resend"), "channel": .string("email"),
            "credentials": .object(["api_key": .string("re_bench_0123456789")]), "defaults": .object(["from": .string("news@bench.example")])]))
        guard let configID = config["id"]?.stringValue else { throw CommandFailure("no send-config id in \(config.compactText)") }
        let batch = try await api.call("POST", "/api/batches", json: .object([
            "name": .string("analytics bench"), "sendConfigId": .string(configID),
            "payload": .object(["subject": .string("hi"), "html": .string("<p>hi</p>")]),
            "recipients": .array([.string("one@bench.example")])]))
        guard let batchID = batch["id"]?.stringValue else { throw CommandFailure("no batch id in \(batch.compactText)") }
        let userID = try PostgresConnection(url: scratch.databaseURL).query("SELECT user_id::text FROM batches WHERE id = $1", [batchID])[0][0] ?? ""

        // 1. The writer, fed with 30 days of one tenant's events over 1,000 batches and 5 send-configs.
        let threads = NIOThreadPool(numberOfThreads: 1)
        threads.start()
        var settings = AnalyticsSettings()
        settings.spillDir = work + "/spill"
        settings.flushRows = blockRows
        settings.memoryRows = max(settings.memoryRows, blockRows)
        let writer = EventWriter(client: clickhouse, settings: settings, threads: threads, logger: Logger(label: "bench"))
        let running = Task { try await writer.run() }
        let batches = [batchID] + (1..<1_000).map { _ in UUID().uuidString.lowercased() }
        let configs = [configID] + (1..<5).map { _ in UUID().uuidString.lowercased() }
        let mix: [(AnalyticsEventType, String, Int)] = [(.queued, "", 34), (.sent, "", 34), (.delivered, "", 22), (.opened, "", 5), (.clicked, "", 2),
                                                        (.bounced, "hard", 1), (.bounced, "soft", 1), (.complained, "", 1)]
        let wheel = mix.flatMap { type, bounce, weight in Array(repeating: (type, bounce), count: weight) }
        let nowMs = SystemClock.nowMilliseconds, spanMs: Int64 = 30 * 86_400_000
        Output.line("writing \(events) events through the event writer into ClickHouse database \(clickhouse.database)…")
        let start = ContinuousClock.now
        var next = 0
        while next < events {
            // Fed as fast as the writer takes them: never more than its memory bound waiting.
            while writer.bufferedEvents > settings.memoryRows - settings.flushRows { try await Task.sleep(for: .milliseconds(1)) }
            let count = min(settings.flushRows, events - next)
            writer.record((next..<next + count).map { i in
                let (type, bounce) = wheel[i % wheel.count]
                return AnalyticsEvent(timeMs: nowMs - Int64(i) * spanMs / Int64(events), userID: userID, batchID: batches[i % batches.count],
                                      recipient: i / batches.count, sendConfigID: configs[i % configs.count], provider: "resend",
                                      type: type, bounceClass: bounce, eventID: type == .opened || type == .clicked ? "e\(i)" : "")
            })
            next += count
        }
        while writer.eventsWritten < events { try await Task.sleep(for: .milliseconds(5)) }
        let seconds = Double((ContinuousClock.now - start).nanoseconds) / 1e9
        running.cancel()
        try? await running.value
        try await threads.shutdownGracefully()
        Output.line(String(format: "event writer: %d events in %.1f s = %.0f events/s (goal ≥ 200,000)", events, seconds, Double(events) / seconds))

        // 2. The endpoints, through the API, over those events.
        let from = ISO8601.extendedUTC(milliseconds: nowMs - spanMs), to = ISO8601.extendedUTC(milliseconds: nowMs + 3_600_000)
        let week = ISO8601.extendedUTC(milliseconds: nowMs - 7 * 86_400_000)
        let endpoints = [
            ("overview, 30 days", "/api/analytics/overview?from=\(from)&to=\(to)"),
            ("overview, one send-config", "/api/analytics/overview?from=\(from)&to=\(to)&sendConfigId=\(configID)"),
            ("timeseries, hourly, 7 days", "/api/analytics/timeseries?interval=hour&from=\(week)&to=\(to)"),
            ("timeseries, daily, 30 days", "/api/analytics/timeseries?interval=day&from=\(from)&to=\(to)"),
            ("batch stats", "/api/batches/\(batchID)/stats"),
        ]
        let overview = try await api.call("GET", endpoints[0].1)
        let total = (overview["counts"]?.objectValue ?? [:]).filter { !$0.key.hasPrefix("bounced") || $0.key == "bounced" }.values
            .reduce(0) { $0 + $1.int }
        Output.line("the overview counts \(total) events of \(events)")
        Output.line("endpoint                          median ms     max ms   (\(repeats) requests each; goal < 200 ms)")
        for (name, path) in endpoints {
            var times: [Double] = []
            for _ in 0..<repeats {
                let began = ContinuousClock.now
                _ = try await api.call("GET", path)
                times.append(Double((ContinuousClock.now - began).nanoseconds) / 1e6)
            }
            times.sort()
            Output.line(String(format: "%@ %10.1f %10.1f", name.padding(toLength: 32, withPad: " ", startingAt: 0), times[times.count / 2], times.last!))
        }
        try? await clickhouse.execute("DROP DATABASE IF EXISTS \(clickhouse.database)")
    }
}
