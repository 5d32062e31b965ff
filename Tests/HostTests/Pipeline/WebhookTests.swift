import Analytics
import Domain
import Foundation
import HostCore
import Messaging
import Persistence
import ProviderCrypto
import ProviderInstances
import ProviderModel
import ProviderSandbox
import TestSupport
import Testing

/// Webhook ingestion end to end: the sandbox's signed webhooks through the receiver and the
/// webhook processor into recipient statuses, counters and suppressions. Part of
/// PipelineWebhookTests (a test at a time, beside the sends).
extension PipelineWebhookTests {
    static let allRoles = "api,discoverer,processor,sender,background,receiver,webhook-processor"

    static func recipients(_ provider: String, count: Int, offset: Int = 0) -> (csv: String, payload: [String: Any]) {
        provider == "telnyx"
            ? (PipelineTests.csv("phone,name", count: count, offset: offset) { "+1312556\(String(format: "%04d", $0))" }, ["text": "Hi {{name}}"])
            : (PipelineTests.csv(count: count, offset: offset), PipelineTests.emailPayload)
    }

    /// Waits until every recipient of `batch` has the status its planned fate gives; returns the mismatches left.
    static func settle(_ harness: PipelineHarness, _ sandbox: TestSandbox, provider: String, batch: String) async throws
        -> (rows: [[String?]], fates: [String: String], mismatches: [String]) {
        var last: (rows: [[String?]], fates: [String: String], mismatches: [String]) = ([], [:], [])
        // Not settled in time: the mismatches left are what the test reports.
        _ = try? await eventually("every recipient at its planned fate", timeout: .seconds(90), interval: .milliseconds(250)) { () -> Bool in
            let fates = try await sandbox.fates(provider)
            let rows = try harness.query("SELECT provider_message_id, status, address FROM recipients WHERE batch_id = $1", [batch])
            let mismatches = rows.compactMap { row -> String? in
                guard let id = row[0], let fate = fates[id] else { return "\(row[2] ?? "?"): no planned fate for message \(row[0] ?? "nil")" }
                let expected = PlannedStatus.of(provider: provider, fate: fate) ?? "?"
                return row[1] == expected ? nil : "\(row[2] ?? "?"): \(fate) should be \(expected), is \(row[1] ?? "nil")"
            }
            last = (rows, fates, mismatches)
            guard mismatches.isEmpty else { return false }
            return (try await sandbox.stats())["webhooks_pending"] as? Int == 0
        }
        return last
    }

    @Test("Each provider's webhooks through a BYOK config's own URL: every final status is the sandbox's planned fate, counters equal the rows, bounced and complained addresses are suppressed and skipped by the next batch",
          arguments: ["resend", "ses", "telnyx"])
    func webhooksBecomeStatuses(provider: String) async throws {
        let harness = try PipelineHarness().started(roles: Self.allRoles)
        defer { harness.finish() }
        let sandboxPort = try LoopbackPort.free()
        let config = try await harness.sendConfig(provider, sandbox: "http://127.0.0.1:\(sandboxPort)")
        let webhookURL = try await harness.call("GET", "/api/send-configs/\(config)")["webhookUrl"] as? String
        #expect(webhookURL == "http://127.0.0.1:\(harness.receiverPort)/webhooks/\(provider)/\(config)")
        // The default outcome mix, 2% duplicates, 20–200 ms latency with jitter that reorders neighbours.
        let sandbox = try TestSandbox(webhookURLs: ["\(provider)=\(webhookURL ?? "")"], port: sandboxPort)
        let count = 400
        let (csv, payload) = Self.recipients(provider, count: count)
        let batch = try await harness.sentBatch(config: config, payload: payload, csv: csv)
        try await harness.wait(batch)
        let (rows, fates, mismatches) = try await Self.settle(harness, sandbox, provider: provider, batch: batch)
        #expect(mismatches.isEmpty, "\(mismatches.count) recipients off their planned fate: \(mismatches.prefix(5))")
        #expect(Set(fates.values).count >= 4, "the mix gave several fates: \(Set(fates.values).sorted())")
        let stats = PipelineTests.section(try await sandbox.stats(), provider)
        #expect((stats["webhooks_acknowledged"] ?? 0) > count, "every webhook was taken")
        #expect(stats["webhooks_failed"] == 0)

        // The counters equal the rows.
        let detail = try await harness.call("GET", "/api/batches/\(batch)")
        let counted = (detail["recipientStatus"] as? [String: Any] ?? [:]).compactMapValues { $0 as? Int }
        #expect(counted == (try harness.rowsByStatus(batch)))

        // Hard bounces and complaints are on the owner's list, soft bounces are not.
        let suppressedFates: Set<String> = provider == "telnyx" ? ["hard_bounce"] : ["hard_bounce", "complained"]
        let expectedSuppressed = Set(rows.filter { suppressedFates.contains(fates[$0[0] ?? ""] ?? "") }.compactMap { $0[2] })
        let listed = try harness.query("SELECT address, source FROM suppressions")
        #expect(Set(listed.compactMap { $0[0] }) == expectedSuppressed)
        for row in listed {
            let fate = rows.first { $0[2] == row[0] }.flatMap { fates[$0[0] ?? ""] }
            #expect(row[1] == (fate == "complained" ? "complaint" : "bounce"))
        }
        #expect(!expectedSuppressed.isEmpty, "the mix bounced or complained some")

        // One recipient's history: queued, sent, then its webhooks, oldest first.
        if let delivered = try harness.query("SELECT position FROM recipients WHERE batch_id = $1 AND status = 'delivered' LIMIT 1", [batch]).first?[0] ?? nil {
            let history = try await harness.call("GET", "/api/batches/\(batch)/recipients/\(delivered)/events")
            let types = (history["data"] as? [[String: Any]] ?? []).compactMap { $0["type"] as? String }
            #expect(types.prefix(2) == ["queued", "sent"] && types.contains("delivered"), "history: \(types)")
        }

        // A second batch to the same addresses skips the suppressed ones.
        let again = try await harness.sentBatch(config: config, payload: payload, csv: csv)
        try await harness.wait(again)
        let skipped = Set(try harness.query("SELECT address FROM recipients WHERE batch_id = $1 AND status = 'suppressed'", [again]).compactMap { $0[0] })
        #expect(skipped == expectedSuppressed)
    }

    @Test("The managed route: each provider's webhooks at /webhooks/{provider} (--webhook-target), verified with the deployment's keys, end where the sandbox planned; a BYOK config's messages stay out of its reach",
          arguments: ["resend", "ses", "telnyx"])
    func managedRoute(provider: String) async throws {
        let sandboxPort = try LoopbackPort.free()
        let sandboxURL = "http://127.0.0.1:\(sandboxPort)"
        let harness = try PipelineHarness(tables: PipelineHarness.managedSESAndTelnyx(baseURL: sandboxURL, certificatePrefix: "\(sandboxURL)/sns/"), managedBaseURL: sandboxURL).started(roles: Self.allRoles)
        defer { harness.finish() }
        // Made through the API: it takes no credentials and sends with the deployment's own account.
        let managed = try await harness.managedConfig(provider)
        // The managed route's ids do not name the config, so a seed of its own keeps runs apart.
        let sandbox = try TestSandbox(webhookTarget: "http://127.0.0.1:\(harness.receiverPort)", port: sandboxPort,
                                      seed: UInt64.random(in: 1_000...UInt64(UInt32.max)))
        let (csv, payload) = Self.recipients(provider, count: 150)
        let batch = try await harness.sentBatch(config: managed, payload: payload, csv: csv)
        try await harness.wait(batch)
        let (_, fates, mismatches) = try await Self.settle(harness, sandbox, provider: provider, batch: batch)
        #expect(mismatches.isEmpty, "\(mismatches.count) recipients off their planned fate: \(mismatches.prefix(5))")
        #expect(Set(fates.values).count >= 3, "the mix gave several fates: \(Set(fates.values).sorted())")

        // A BYOK config's messages (to other addresses) are out of the managed route's reach: its webhooks stay unapplied.
        let byok = try await harness.sendConfig(provider, sandbox: sandbox.url)
        let (otherCSV, _) = Self.recipients(provider, count: 20, offset: 1_000)
        let other = try await harness.sentBatch(config: byok, payload: payload, csv: otherCSV)
        try await harness.wait(other)
        try await eventually { (try await sandbox.stats())["webhooks_pending"] as? Int == 0 }
        // What must not happen: those webhooks applied. They are stored now, and the processor tries a webhook whose
        // message it does not know every orphan_retry_ms (300 ms): a second of that is three tries.
        let unapplied = try await holds(for: .seconds(1)) {
            try harness.rowsByStatus(other) == ["sent": 20]
                && harness.query("SELECT count(*) FROM recipient_events e JOIN recipients r USING (batch_id, position) WHERE r.batch_id = $1", [other])
                    .first?[0] == "0"
        }
        #expect(unapplied, "a BYOK message's webhook was applied through the managed route")
        #expect(try harness.rowsByStatus(other) == ["sent": 20])
    }
}
