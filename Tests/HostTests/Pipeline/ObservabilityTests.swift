import Foundation
import HostCore
import ProviderModel
import TestSupport
import Testing

/// Metrics end to end: the queue depth on /api/metrics while a batch sends, the stack's Prometheus
/// scraping it, every dashboard query answering with data, and the alert rules checked and unit-tested
/// by promtool.
/// Part of PipelineWebhookTests (a test at a time, beside the sends).
extension PipelineWebhookTests {
    static let prometheus = "http://127.0.0.1:9090"

    /// The series a PromQL query returns now (`data.result`).
    static func promQuery(_ expression: String) async -> [JSONValue] {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let encoded = expression.addingPercentEncoding(withAllowedCharacters: allowed) ?? expression
        let answer = JSONValue.parse(await LoopbackHTTP.get("\(prometheus)/api/v1/query?query=\(encoded)", timeoutMs: 10_000).body)
        return answer?["data"]?["result"]?.arrayValue ?? []
    }

    @Test("The alert rules pass promtool's check and their unit tests")
    func alertRules() async throws {
        let folder = TestPaths.packageRoot.appendingPathComponent("deploy/prometheus").path
        let check = try await TestEnvironment.run("/usr/bin/promtool", ["check", "rules", "\(folder)/alerts.yml"])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let tests = try await TestEnvironment.run("/usr/bin/promtool", ["test", "rules", "\(folder)/alerts.test.yml"])
        #expect(tests.status == 0, "\(tests.stdout)\(tests.stderr)")
    }

    @Test("While a batch sends, /api/metrics shows its queue depth and Prometheus has it; afterwards every dashboard query returns data")
    func metricsAndDashboards() async throws {
        let harness = try PipelineHarness(limits: SendRateLimits.unlimitedTOML + "\nsystem = 300").started(roles: Self.allRoles)
        defer { harness.finish() }
        // The stack's Prometheus scrapes the files in its targets folder (it watches the folder).
        let targets = TestPaths.packageRoot.appendingPathComponent(".stack/prometheus/targets/\(harness.databaseName).json")
        try Data(#"[{"targets":["127.0.0.1:\#(harness.apiPort)"],"labels":{"deployment":"\#(harness.databaseName)"}}]"#.utf8).write(to: targets)
        defer { try? FileManager.default.removeItem(at: targets) }

        let sandboxPort = try LoopbackPort.free()
        let config = try await harness.sendConfig("resend", sandbox: "http://127.0.0.1:\(sandboxPort)")
        let webhookURL = try await harness.call("GET", "/api/send-configs/\(config)")["webhookUrl"] as? String ?? ""
        let sandbox = try TestSandbox(webhookURLs: ["resend=\(webhookURL)"], port: sandboxPort)
        // 300 messages/s: 3,000 recipients send for ~10 s, long enough to watch the queue.
        let (csv, payload) = Self.recipients("resend", count: 3_000)
        let batch = try await harness.batch(config: config, payload: payload, csv: csv)
        let user = try harness.query("SELECT user_id FROM batches WHERE id = $1", [batch])[0][0] ?? ""
        try await harness.call("POST", "/api/batches/\(batch)/send")

        let series = "nats_queue_depth{stream=\"email-system\",consumer=\"sender-\(user)\"}"
        var seenOnEndpoint = 0.0, seenInPrometheus = 0.0
        // Prometheus scrapes every 5 s: read both every half second until each has shown the queue.
        _ = try? await eventually("the queue seen on /api/metrics and in Prometheus", timeout: .seconds(60), interval: .milliseconds(500)) {
            let text = LoopbackHTTP.text(await LoopbackHTTP.get("http://127.0.0.1:\(harness.apiPort)/api/metrics", timeoutMs: 10_000))
            for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
                seenOnEndpoint = max(seenOnEndpoint, Double(line.split(separator: " ").last ?? "") ?? 0)
            }
            for result in await Self.promQuery("max_over_time(\(series)[1m])") {
                seenInPrometheus = max(seenInPrometheus, Double(result["value"]?.arrayValue?.last?.stringValue ?? "") ?? 0)
            }
            return seenOnEndpoint > 0 && seenInPrometheus > 0
        }
        #expect(seenOnEndpoint > 0, "the tenant's chunk jobs waiting, on /api/metrics")
        #expect(seenInPrometheus > 0, "and in Prometheus")
        try await harness.wait(batch)
        _ = try await Self.settle(harness, sandbox, provider: "resend", batch: batch)
        // Each request to the provider is timed (a dashboard's latency panel reads it).
        let metrics = LoopbackHTTP.text(await LoopbackHTTP.get("http://127.0.0.1:\(harness.apiPort)/api/metrics", timeoutMs: 10_000))
        let timed = metrics.split(separator: "\n").first { $0.hasPrefix("send_request_duration_seconds_count{provider=\"resend\"} ") }
        #expect((timed?.split(separator: " ").last.flatMap { Double($0) } ?? 0) > 0, "requests timed: \(timed ?? "no series")")

        // Every dashboard query answers with data once Prometheus has two scrapes after the last event (a rate
        // needs two samples in its window): read until they all do, or a minute passes.
        var queries: [(dashboard: String, panel: String, expression: String)] = []
        for name in ["delivery", "queue"] {
            let file = TestPaths.packageRoot.appendingPathComponent("deploy/grafana/\(name).json")
            let dashboard = JSONValue.parse(try Data(contentsOf: file))
            let panels = dashboard?["panels"]?.arrayValue ?? []
            #expect(!panels.isEmpty)
            for panel in panels {
                for target in panel["targets"]?.arrayValue ?? [] {
                    let expression = (target["expr"]?.stringValue ?? "").replacingOccurrences(of: "$__rate_interval", with: "1m")
                    queries.append((name, panel["title"]?.stringValue ?? "?", expression))
                }
            }
        }
        var empty = queries
        _ = try? await eventually("every dashboard query answering with data", timeout: .seconds(60), interval: .seconds(1)) {
            var still: [(dashboard: String, panel: String, expression: String)] = []
            for query in empty where await Self.promQuery(query.expression).isEmpty { still.append(query) }
            empty = still
            return empty.isEmpty
        }
        for query in empty {
            Issue.record("\(query.dashboard): \(query.panel): \(query.expression) returned no data")
        }
    }

    @Test("--log-format json: every line the host writes is one JSON object with time, level and message; roles and batch ids are named")
    func jsonLogs() async throws {
        let harness = try PipelineHarness()
        defer { harness.finish() }
        let log = TestPaths.scratch.appendingPathComponent("json-\(harness.databaseName).log").path
        try harness.start("host", arguments: ["--log-format", "json", "--log-level", "info"], log: log)
        let sandbox = try TestSandbox()
        let batch = try await harness.sendResendBatch(sandbox: sandbox, count: 20)
        try await harness.wait(batch)
        #expect(harness.terminate("host") == 0)
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(lines.count >= 3)
        var roles: Set<String> = []
        var namedBatch = false
        for line in lines {
            let object = JSONValue.parse(Array(line.utf8))?.objectValue
            #expect(object != nil, "not one JSON object: \(line.prefix(200))")
            guard let object else { continue }
            #expect(object["time"]?.stringValue != nil && object["level"]?.stringValue != nil && object["message"]?.stringValue != nil)
            if let role = object["role"]?.stringValue { roles.insert(role) }
            if object["batch"]?.stringValue == batch { namedBatch = true }
        }
        #expect(roles.isSuperset(of: ["processor", "background"]), "roles: \(roles)")
        #expect(namedBatch, "a line about the batch names it")
    }
}
