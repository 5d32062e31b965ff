import Foundation
import HostCore
import ProviderCrypto
import TestSupport
import Testing

/// The retry bound counts refusals, not JetStream deliveries.
/// Part of PipelineWebhookTests (a test at a time, beside the sends).
extension PipelineWebhookTests {
    @Test("A webhook that waited many deliveries for its message, then is refused, still gets every retry before it is dead-lettered")
    func waitsForTheMessageSpendNoRetries() async throws {
        let harness = try PipelineHarness()
        defer { harness.finish() }
        let log = try HostLog(name: "refusal-count-host")
        try harness.start("host", roles: Self.allRoles, arguments: ["--log-format", "json"], log: log.path)
        let sandbox = try TestSandbox()
        let config = try await harness.sendConfig("resend", sandbox: sandbox.url)
        let batch = try await harness.sentBatch(config: config, payload: PipelineTests.emailPayload, csv: PipelineTests.csv(count: 1))
        try await harness.wait(batch)

        // An event for a message not known yet, whose id PostgreSQL will refuse once the message is found.
        let later = "later-\(UUID().uuidString)"
        let id = "msg_late_" + Encoding.hex((0..<3_000).map { _ in UInt8.random(in: 0...255) })
        let body = Self.resendBody(later)
        let answer = await Self.post("http://127.0.0.1:\(harness.receiverPort)/webhooks/resend/\(config)",
                                     try Self.resendHeaders(body, id: id, at: Int64(Date().timeIntervalSince1970)), body)
        #expect(answer.status == 200, "\(answer.status) \(answer.body)")
        // Every `orphan_retry_ms` (300 ms here) a delivery while its message is unknown. Nothing shows such a
        // delivery (it is put back without a log line or a count), so ten of those periods pass: the time is the
        // point here, and the dead letter's delivery count below says whether the waits happened.
        try await Task.sleep(for: .milliseconds(10 * 300))
        _ = try harness.query("""
            WITH named AS (UPDATE recipients SET provider_message_id = $2 WHERE batch_id = $1 RETURNING position)
            INSERT INTO provider_messages (provider_message_id, batch_id, position) SELECT $2, $1, position FROM named
            """, [batch, later])

        // Now refused: its first refusal, tried again after 1 s (its second), then 2 s…, not dead-lettered at once.
        let refused = "a stored webhook cannot be applied; tried again later"
        try await eventually("the webhook's second refusal", timeout: .seconds(30)) {
            !log.entries(message: refused, ["provider": "resend", "refusals": "2"]).isEmpty
        }
        // This config's letters.
        let mine = "SELECT count(*) FROM webhook_dead_letters WHERE send_config_id = $1"
        #expect(try harness.query(mine, [config]).first?[0] == "0", "dead-lettered at its first refusal")
        try? await eventually(timeout: .seconds(40)) {
            try harness.query(mine, [config]).first?[0] != "0"
        }
        let letters = try harness.query("SELECT deliveries, reasons[1] FROM webhook_dead_letters WHERE send_config_id = $1", [config])
        let statuses = try harness.rowsByStatus(batch)
        #expect(letters.count == 1, "\(letters.map { "\($0[0] ?? "") \($0[1]?.prefix(120) ?? "")" }) \(statuses)")
        let deliveries = Int(letters.first?[0] ?? "0") ?? 0
        #expect(deliveries >= 10, "dead-lettered at delivery \(deliveries): the waits and the five refusals")
        #expect(try harness.rowsByStatus(batch) == ["sent": 1])
    }
}
