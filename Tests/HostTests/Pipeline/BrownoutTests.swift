import Foundation
import TestSupport
import Testing

/// A provider that answers slowly, past the ack wait and the claim hold: the round in flight keeps its jobs
/// and its claims, so nothing is redelivered and sent beside it. Part of PipelineWebhookTests (a test at a time, beside the sends).
extension PipelineWebhookTests {
    @Test("A brownout (every answer 12 s late, past a 5 s ack wait and a 10 s claim hold): the round keeps its jobs and claims, and SES, which takes no idempotency key, gets each message once")
    func brownout() async throws {
        let sandbox = try TestSandbox(config: "[faults.ses]\nslow = 1.0\nslow_ms = 12000\n")
        // The HTTP timeout past the answer's delay: the request is slow, not lost.
        let harness = try PipelineHarness(pipeline: PipelineTests.quickRecovery + "\nhttp_timeout_ms = 30000").started()
        defer { harness.finish() }
        let config = try await harness.sendConfig("ses", sandbox: sandbox.url)
        let batch = try await harness.sentBatch(config: config, payload: PipelineTests.emailPayload, csv: PipelineTests.csv(count: 20))
        let detail = try await harness.wait(batch, seconds: 90)
        #expect(PipelineHarness.counts(detail)["sent"] == 20)
        #expect(try harness.rowsByStatus(batch) == ["sent": 20])
        let stats = PipelineTests.section(try await sandbox.stats(), "ses")
        #expect(stats["messages_accepted"] == 20, "each recipient reached SES once: \(stats)")
    }

    @Test("A provider outage of 8 s mid-batch (every send answered 503), under a binding 1,000 messages/s limit: the batch waits it out and completes, each recipient reached once")
    func providerOutage() async throws {
        let sandbox = try TestSandbox()
        // Binding: 6,000 recipients at 1,000 a second take 6 s of tokens, so the outage lands mid-batch.
        let harness = try PipelineHarness(limits: "[limits]\nbyok = { resend = 1000 }\n").started()
        defer { harness.finish() }
        let config = try await harness.sendConfig("resend", sandbox: sandbox.url)
        let count = 6_000
        let batch = try await harness.sentBatch(config: config, payload: PipelineTests.emailPayload, csv: PipelineTests.csv(count: count))
        try await eventually("the batch under way") { try await sandbox.accepted() > 0 }
        try await sandbox.outage("resend", seconds: 8)
        let before = try await sandbox.accepted()
        #expect(before < count, "the outage began mid-batch: \(before) of \(count) accepted")
        let started = ContinuousClock.now
        let detail = try await harness.wait(batch, seconds: 120)
        #expect(ContinuousClock.now - started > .seconds(8), "the batch outlasted the outage")
        #expect(PipelineHarness.counts(detail)["sent"] == count && PipelineHarness.counts(detail)["failed"] == 0, "\(detail["counts"] ?? "")")
        let stats = PipelineTests.section(try await sandbox.stats(), "resend")
        #expect((stats["outage_refused"] ?? 0) > 0, "the outage refused requests: \(stats)")
        #expect(stats["messages_accepted"] == count && stats["duplicate_deliveries"] == 0, "\(stats)")
        // Another provider of the same sandbox was never down.
        #expect(PipelineTests.section(try await sandbox.stats(), "ses")["outage_refused"] == 0)
    }
}

/// A provider down for 30 s mid-batch, with a fallback send-config on another provider: the batch completes
/// through the fallback meanwhile and returns to its own provider after, each recipient reached once.
extension PipelineWebhookTests {
    @Test("Failover: Resend down for 30 s mid-batch under binding limits, taking what it is sent and answering 503; unsent messages go through the SES fallback, each recipient is reached once across both, SES's webhooks find their recipients, and the batch returns to Resend after the outage")
    func failover() async throws {
        let harness = try PipelineHarness().started(roles: Self.allRoles)
        defer { harness.finish() }
        let sandboxPort = try LoopbackPort.free()
        let sandboxURL = "http://127.0.0.1:\(sandboxPort)"
        let primary = try await harness.sendConfig("resend", sandbox: sandboxURL)
        let fallback = try await harness.sendConfig("ses", sandbox: sandboxURL)
        // Binding limits: 6,000 recipients take 30 s of Resend's tokens, and SES takes 80 a second, so that the batch
        // outlasts the outage and comes back to Resend.
        try await harness.call("PATCH", "/api/send-configs/\(primary)", json: ["rateLimit": 200, "fallbacks": [fallback]])
        try await harness.call("PATCH", "/api/send-configs/\(fallback)", json: ["rateLimit": 80])
        func webhookURL(_ config: String) async throws -> String {
            try await harness.call("GET", "/api/send-configs/\(config)")["webhookUrl"] as? String ?? ""
        }
        let sandbox = try TestSandbox(webhookURLs: ["resend=\(try await webhookURL(primary))", "ses=\(try await webhookURL(fallback))"],
                                      port: sandboxPort)
        let count = 6_000
        let batch = try await harness.sentBatch(config: primary, payload: PipelineTests.emailPayload, csv: PipelineTests.csv(count: count))
        try await eventually("the batch under way") { try await sandbox.accepted("resend") > 0 }
        // Resend takes what it is sent, and answers 503: until the circuit opens, its messages are delivered unknown to
        // the sender. They must stay with Resend (repeated under their key when it answers again); handed to SES they
        // would reach their recipients twice.
        try await sandbox.outage("resend", seconds: 30, accepting: true)
        let outageEnds = ContinuousClock.now + .seconds(30)
        let atOutage = try await sandbox.accepted("resend")
        try await eventually("SES standing in", timeout: .seconds(25)) { try await sandbox.accepted("ses") > 0 }
        try await Task.sleep(until: outageEnds)
        let afterOutage = try await sandbox.accepted("resend")
        #expect(afterOutage > atOutage, "Resend took messages it answered with a 503: \(atOutage) → \(afterOutage)")
        let detail = try await harness.wait(batch, seconds: 180)
        #expect(PipelineHarness.counts(detail)["sent"] == count && PipelineHarness.counts(detail)["failed"] == 0, "\(detail["counts"] ?? "")")

        // Each recipient reached once, whichever provider reached it.
        var reached: [String: Int] = [:]
        for provider in ["resend", "ses"] {
            let answer = try await sandbox.get("/sandbox/reached?provider=\(provider)")
            for (address, messages) in answer["reached"] as? [String: Int] ?? [:] { reached[address, default: 0] += messages }
        }
        #expect(reached.count == count, "\(reached.count) of \(count) recipients reached")
        let twice = reached.filter { $0.value > 1 }
        #expect(twice.isEmpty, "\(twice.count) recipients reached more than once: \(twice.prefix(5))")
        let resend = try await sandbox.accepted("resend"), ses = try await sandbox.accepted("ses")
        #expect(ses > 500, "SES stood in for a good share: \(ses)")
        #expect(resend - afterOutage > 500, "Resend took the batch back after the outage: \(resend - afterOutage) messages since")

        // The rows name the config that sent them; the fallback's webhooks find its recipients.
        let viaFallback = try harness.query("SELECT count(*) FROM recipients WHERE batch_id = $1 AND sent_via = $2", [batch, fallback])
        #expect(viaFallback.first?[0].flatMap { Int($0) } == ses, "every SES message is a row sent via the fallback")
        try await eventually("SES's webhooks applied", timeout: .seconds(120)) {
            let waiting = try harness.query("SELECT count(*) FROM recipients WHERE batch_id = $1 AND sent_via = $2 AND status = 'sent'", [batch, fallback])
            return waiting.first?[0] == "0"
        }
        #expect(try harness.query("SELECT count(*) FROM webhook_orphans").first?[0] == "0", "no webhook was left without its recipient")

        // The batch's history: over to SES, and back.
        let events = (try await harness.call("GET", "/api/batches/\(batch)/events")["data"] as? [[String: Any]] ?? [])
        // Lanes whose rounds straddle the moment the circuit closes end in any order, and a probe of the half-open
        // circuit is no switch (`RouteHistory`): once six events alternated within 350 ms. A round takes its number
        // before it asks the circuits, and the circuit may close between two lanes' questions, so one more pair can
        // still show (docs/pipeline.md); switches alternate.
        let types = events.compactMap { $0["type"] as? String }
        #expect(types.first == "failover" && types.last == "failback" && types.count <= 4, "\(events.map { "\($0["type"] ?? "") \($0["occurredAt"] ?? "")" })")
        #expect(zip(types, types.dropFirst()).allSatisfy { $0 != $1 }, "each event is a switch: \(types)")
        #expect(events.first?["fromSendConfigId"] as? String == primary && events.first?["toSendConfigId"] as? String == fallback)
        #expect(events.last?["toSendConfigId"] as? String == primary)
        let metrics = LoopbackHTTP.text(await LoopbackHTTP.get("http://127.0.0.1:\(harness.apiPort)/api/metrics", timeoutMs: 10_000))
        let failovers = types.count { $0 == "failover" }, failbacks = types.count { $0 == "failback" }
        let switches = metrics.split(separator: "\n").filter { $0.hasPrefix("batch_route") }
        #expect(metrics.contains("batch_route_switches_total{from=\"resend\",to=\"ses\",type=\"failover\"} \(failovers)"),
                "the metric counts the switches: \(switches)")
        #expect(metrics.contains("batch_route_switches_total{from=\"ses\",to=\"resend\",type=\"failback\"} \(failbacks)"), "\(switches)")
    }
}
