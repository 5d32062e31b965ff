import Foundation
import HostCore
import TestSupport
import Testing

/// Recipient positions come from one bigint sequence shared by every batch of a deployment, so a
/// long-lived one passes 2^31 - 1.
/// Part of PipelineWebhookTests (a test at a time, beside the sends).
extension PipelineWebhookTests {
    @Test("A recipient at position 2^31 + 5 is sent, its webhook event is applied, and the API lists its events")
    func positionsPastInt32() async throws {
        let harness = try PipelineHarness()
        defer { harness.finish() }
        let position: Int64 = (1 << 31) + 5
        _ = try harness.query("SELECT setval('recipient_positions', $1, false)", [String(position)])
        try harness.start("host", roles: Self.allRoles)
        let sandbox = try TestSandbox()
        let config = try await harness.sendConfig("resend", sandbox: sandbox.url)
        let batch = try await harness.sentBatch(config: config, payload: PipelineTests.emailPayload, csv: PipelineTests.csv(count: 2))
        try await harness.wait(batch)
        let rows = try harness.query("SELECT position, provider_message_id FROM recipients WHERE batch_id = $1 ORDER BY position", [batch])
        #expect(rows.first?[0] == String(position), "\(rows)")
        #expect(try harness.rowsByStatus(batch) == ["sent": 2])
        let message = rows.first?[1] ?? nil

        let body = Self.resendBody(message ?? "")
        let headers = try Self.resendHeaders(body, id: "msg_big_\(UUID().uuidString)", at: Int64(Date().timeIntervalSince1970))
        let answer = await Self.post("http://127.0.0.1:\(harness.receiverPort)/webhooks/resend/\(config)", headers, body)
        #expect(answer.status == 200, "\(answer.status) \(answer.body)")
        try await eventually(timeout: .seconds(20)) { try harness.rowsByStatus(batch) == ["sent": 1, "delivered": 1] }
        #expect(try harness.query("SELECT position FROM recipient_events WHERE batch_id = $1", [batch]).map { $0[0] } == [String(position)])

        let events = try await harness.call("GET", "/api/batches/\(batch)/recipients/\(position)/events")["data"] as? [[String: Any]] ?? []
        #expect(events.compactMap { $0["type"] as? String } == ["queued", "sent", "delivered"], "\(events)")
        #expect(try harness.query("SELECT count(*) FROM webhook_dead_letters WHERE send_config_id = $1", [config]).first?[0] == "0")
    }
}
