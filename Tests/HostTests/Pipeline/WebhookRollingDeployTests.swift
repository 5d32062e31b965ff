import Foundation
import HostCore
import TestSupport
import Testing

/// A webhook processor without a webhook's plugin (an old version still running during a rolling
/// deploy) refuses it for now: it is tried again, and the new processor applies it.
/// Part of PipelineWebhookTests (a test at a time, beside the sends).
extension PipelineWebhookTests {
    @Test("A webhook whose plugin the processing host has not loaded is tried again rather than dead-lettered at once, and a host with the plugin applies it")
    func pluginMissingDuringRollingDeploy() async throws {
        let (harness, _, config) = try await PipelineTests.deployment(roles: "api,discoverer,processor,sender,background,receiver", provider: "telnyx")
        defer { harness.finish() }
        let (csv, payload) = Self.recipients("telnyx", count: 1)
        let batch = try await harness.sentBatch(config: config, payload: payload, csv: csv)
        try await harness.wait(batch)
        let message = try harness.query("SELECT provider_message_id FROM recipients WHERE batch_id = $1", [batch]).first?[0] ?? nil

        // The old version: the same deployment without the Telnyx plugin, alone on the webhooks stream.
        let old = try PipelineHarness.reusing(harness, plugins: ["Resend"])
        defer { old.finish() }
        let oldLog = try HostLog(name: "old-webhook-processor")
        try old.start("old", roles: "webhook-processor", arguments: ["--log-format", "json"], log: oldLog.path)
        let body = Array(#"{"data":{"event_type":"message.finalized","id":"ev-deploy-\#(UUID().uuidString)","occurred_at":"2026-11-30T10:00:00.000+00:00","record_type":"event","payload":{"id":"\#(message ?? "")","record_type":"message","to":[{"phone_number":"+13125560000","status":"delivered"}]}},"meta":{"attempt":1,"delivered_to":"x"}}"#.utf8)
        let headers = Self.telnyxHeaders(body, at: Int64(Date().timeIntervalSince1970))
        let answer = await Self.post("http://127.0.0.1:\(harness.receiverPort)/webhooks/telnyx/\(config)", headers, body)
        #expect(answer.status == 200, "\(answer.status) \(answer.body)")
        // Refused at once, then after 1 s and 2 s more (its third refusal, which the old host logs): still waiting, no dead letter.
        try await eventually("the old host's third refusal of the Telnyx webhook", timeout: .seconds(30)) {
            !oldLog.entries(message: "a stored webhook cannot be applied; tried again later", ["provider": "telnyx", "refusals": "3"]).isEmpty
        }
        #expect(try harness.query("SELECT count(*) FROM webhook_dead_letters WHERE send_config_id = $1", [config]).first?[0] == "0", "dead-lettered during the deploy")
        #expect(try harness.rowsByStatus(batch) == ["sent": 1])

        // The new version takes over and applies it.
        old.kill9("old")
        try harness.start("new", roles: "webhook-processor")
        try await eventually(timeout: .seconds(30)) { try harness.rowsByStatus(batch) == ["delivered": 1] }
        #expect(try harness.query("SELECT count(*) FROM webhook_dead_letters WHERE send_config_id = $1", [config]).first?[0] == "0")
    }
}
