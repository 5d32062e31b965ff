import App
import Foundation
import HostCore
import ProviderModel
import ProviderSandbox

/// One provider's batch sent end to end through a running host and sandbox:
/// a send-config pointing at the sandbox, N recipients uploaded as CSV, the
/// batch sent, its progress shown until it completes, and the figures checked
/// against the sandbox's own count.
struct DeliveryRun {
    enum Provider: String, CaseIterable {
        case resend, ses, telnyx, webhook

        /// Providers whose sandbox stand-in sends delivery webhooks back.
        var hasWebhooks: Bool { self != .webhook }

        /// Its section of the sandbox's `/sandbox/stats` (the webhook channel's stand-in is the sandbox's receiver).
        var sandboxSection: String { self == .webhook ? "receiver" : rawValue }
    }

    struct Outcome {
        var provider: Provider
        var batchID: String
        var status: String
        var sent: Int
        var failed: Int
        var seconds: Double
        var sandboxAccepted: Int
        var sandboxDuplicates: Int
        var messagesPerSecond: Double { seconds > 0 ? Double(sent + failed) / seconds : 0 }
        /// With webhooks: recipients per final status, and what the sandbox's planned fates make of them.
        var statuses: [String: Int] = [:]
        var planned: [String: Int] = [:]
        /// With webhooks: from their release (they are held while the batch sends) to the statuses settling.
        var webhookSeconds: Double?
        /// The analytics API's line for the batch (nil without ClickHouse).
        var analytics: String?
        var agrees: Bool { status == "completed" && sandboxAccepted == sent && sandboxDuplicates == 0 && statuses == planned }
    }

    let api: APIClient
    let sandboxURL: String
    let recipients: Int
    /// Whether the sandbox sends webhooks back to each config's own URL.
    var webhooks = false

    /// The provider's send-config pointing at the sandbox (with its webhook keys); its id.
    func createConfig(_ provider: Provider) async throws -> String {
        let config = try await api.call("POST", "/api/send-configs", json: sendConfig(provider))
        guard let id = config["id"]?.stringValue else { throw CommandFailure("the API created no send-config: \(config.compactText.prefix(300))") }
        return id
    }

    func sendConfig(_ provider: Provider) -> JSONValue {
        let name = JSONValue.string("\(provider.rawValue) \(UUID().uuidString.prefix(8))")
        func object(_ pairs: [String: JSONValue]) -> JSONValue { .object(pairs) }
        switch provider {
        case .resend:
            // The sandbox's default Svix secret (GET /sandbox/keys).
            return object(["name": name, "provider": "resend", "credentials": object(["api_key": "re_bench_0123456789abcdef", "base_url": .string(sandboxURL),
                                                                                     "webhook_secret": "whsec_YmF0Y2hzZW5kZXItc2FuZGJveC1yZXNlbmQta2V5ISE="]),
                           "defaults": object(["from": "news@bench.example"])])
        case .ses:
            return object(["name": name, "provider": "ses",
                           "credentials": object(["access_key_id": "AKIDEXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                                  "region": "us-east-1", "base_url": .string(sandboxURL),
                                                  // Event publishing, the sandbox's SNS topic and (tests only) its certificate.
                                                  "configuration_set": "batchsender-events",
                                                  "sns_topic_arns": .array(["arn:aws:sns:us-east-1:123456789012:batchsender-ses-events"]),
                                                  "insecure_test_cert_url_prefix": .string(sandboxURL + "/sns/")]),
                           "defaults": object(["from": "news@bench.example"])])
        case .telnyx:
            return object(["name": name, "provider": "telnyx", "channel": "sms",
                           "credentials": object(["api_key": "KEYbench0123456789", "public_key": "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=",
                                                  "base_url": .string(sandboxURL)]),
                           "defaults": object(["from": "+13125550100"])])
        case .webhook:
            return object(["name": name, "provider": "custom-webhook", "channel": "webhook",
                           "credentials": object(["url": .string(sandboxURL + "/receiver/bench"),
                                                  "secret": "whsec_YmF0Y2hzZW5kZXItc2FuZGJveC1yZWNlaXZlci1rZXk="])])
        }
    }

    func payload(_ provider: Provider) -> JSONValue {
        switch provider {
        case .resend, .ses: .object(["subject": "Hello {{name}}", "html": "<p>Hi {{name}}, your code is {{code}}.</p>"])
        case .telnyx: .object(["text": "Hi {{name}}, your code is {{code}}."])
        case .webhook: .object(["data": .object(["event": "order.shipped", "customer": "{{name}}", "code": "{{code}}"])])
        }
    }

    func address(_ provider: Provider, _ index: Int) -> String {
        switch provider {
        // Addresses of their own per provider: one batch's bounces and complaints would otherwise suppress them in the next.
        case .resend: "user\(index)@bench.example"
        case .ses: "user\(index)@ses.bench.example"
        case .telnyx: "+1\(2_000_000_000 + index)"
        case .webhook: "endpoint-\(index)"
        }
    }

    /// A draft batch of `count` recipients (addresses from `offset` on) uploaded as CSV; its id.
    func upload(_ provider: Provider, configID: String, count: Int, offset: Int = 0) async throws -> String {
        let batch = try await api.call("POST", "/api/batches", json: .object([
            "name": .string("bench \(provider.rawValue) \(count)"), "sendConfigId": .string(configID), "payload": payload(provider)]))
        guard let batchID = batch["id"]?.stringValue else { throw CommandFailure("the API created no batch: \(batch.compactText.prefix(300))") }
        let chunk = 100_000
        for start in stride(from: offset, to: offset + count, by: chunk) {
            var csv = "address,name,code\n"
            csv.reserveCapacity(min(chunk, offset + count - start) * 48)
            for index in start..<min(start + chunk, offset + count) { csv += "\(address(provider, index)),Name \(index),\(index % 9_973)\n" }
            _ = try await api.call("POST", "/api/batches/\(batchID)/recipients", body: Array(csv.utf8), contentType: "text/csv")
        }
        return batchID
    }

    /// Uploads the batch, then sends it; `sending` is called just before the send and once it is done
    /// (the benchmark reads CPU counters there, so the upload is not counted as sending).
    func run(_ provider: Provider, configID: String, sending: (Bool) -> Void = { _ in }, progress: (String) -> Void) async throws -> Outcome {
        let batchID = try await upload(provider, configID: configID, count: recipients)
        let statsBefore = try await sandboxCounts(provider)
        // The batch's webhooks wait in the sandbox until it has sent, so that the send's rate and CPU are its own:
        // SNS's RSA signatures and the host applying webhooks would otherwise share the two cores with it.
        let holding = webhooks && provider.hasWebhooks
        // `settle` lets them go (a run that fails stops this sandbox with it).
        if holding { _ = try await APIClient.bare("POST", sandboxURL + "/sandbox/webhooks/hold?seconds=3600", http: api.http) }
        sending(true)
        var sendingEnded = false
        defer { if !sendingEnded { sending(false) } }
        let started = Date()
        _ = try await api.call("POST", "/api/batches/\(batchID)/send")
        var detail: JSONValue = .null
        var lastLine = Date.distantPast
        while true {
            detail = try await api.call("GET", "/api/batches/\(batchID)")
            let status = detail["status"]?.stringValue ?? ""
            let sent = detail["counts"]?["sent"]?.int ?? 0, failed = detail["counts"]?["failed"]?.int ?? 0
            if Date().timeIntervalSince(lastLine) >= 1 || status != "processing" && status != "queued" {
                let elapsed = Date().timeIntervalSince(started)
                progress(String(format: "%@: %@ %d/%d sent, %d failed, %.0f msg/s", provider.rawValue, status, sent, recipients, failed,
                                elapsed > 0 ? Double(sent + failed) / elapsed : 0))
                lastLine = Date()
            }
            if ["completed", "failed", "cancelled"].contains(status) { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        let stats = try await sandboxCounts(provider)
        // From the send to the last outcome recorded, by the server's own clocks (the completion itself
        // is noticed by the ~2 s counter sync, which a client's clock would add).
        let queuedAt = detail["queuedAt"]?.stringValue.flatMap(ISO8601.milliseconds) ?? 0
        let lastOutcome = detail["progress"]?["lastOutcomeAt"]?.stringValue.flatMap(ISO8601.milliseconds) ?? 0
        let seconds = lastOutcome > queuedAt ? Double(lastOutcome - queuedAt) / 1000 : Date().timeIntervalSince(started)
        var outcome = Outcome(provider: provider, batchID: batchID, status: detail["status"]?.stringValue ?? "",
                              sent: detail["counts"]?["sent"]?.int ?? 0, failed: detail["counts"]?["failed"]?.int ?? 0, seconds: seconds,
                              sandboxAccepted: stats.accepted - statsBefore.accepted, sandboxDuplicates: stats.duplicates - statsBefore.duplicates)
        // The webhooks' time is not the send's: CPU counters stop here.
        sending(false)
        sendingEnded = true
        if webhooks, provider.hasWebhooks { try await settle(&outcome, progress: progress) }
        return outcome
    }

    /// Waits until the batch's statuses are what the sandbox planned, or no webhook is left to come and
    /// nothing moved for 5 s (then they disagree, and the run says so).
    func settle(_ outcome: inout Outcome, progress: (String) -> Void) async throws {
        var fates: [String: Int] = [:]
        for (_, fate) in try await APIClient.get(sandboxURL + "/sandbox/fates?provider=\(outcome.provider.rawValue)", http: api.http)["fates"]?.objectValue ?? [:] {
            if let status = PlannedStatus.of(provider: outcome.provider.rawValue, fate: fate.stringValue ?? "") { fates[status, default: 0] += 1 }
        }
        outcome.planned = fates
        _ = try await APIClient.bare("POST", sandboxURL + "/sandbox/webhooks/hold?seconds=0", http: api.http)
        let released = Date()
        defer { outcome.webhookSeconds = Date().timeIntervalSince(released) }
        var lastChange = Date(), lastLine = Date.distantPast
        while true {
            let detail = try await api.call("GET", "/api/batches/\(outcome.batchID)")
            let statuses = (detail["recipientStatus"]?.objectValue ?? [:]).mapValues(\.int)
            if statuses != outcome.statuses { (outcome.statuses, lastChange) = (statuses, Date()) }
            if Date().timeIntervalSince(lastLine) >= 1 || statuses == fates {
                progress("\(outcome.provider.rawValue) webhooks: " + statuses.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
                lastLine = Date()
            }
            if statuses == fates { return }
            let pending = try await APIClient.get(sandboxURL + "/sandbox/stats", http: api.http)["webhooks_pending"]?.int ?? 0
            if pending == 0, Date().timeIntervalSince(lastChange) > 5 { return }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    /// The batch as the analytics API tells it (ClickHouse's sums), once they count every message sent and,
    /// with webhooks, at least the deliveries and bounces its rows hold (the event writer flushes every few
    /// seconds): one line of counts and rates; nil when the deployment keeps no analytics.
    func analytics(_ outcome: Outcome) async throws -> String? {
        let deadline = Date().addingTimeInterval(30)
        let settled = webhooks && outcome.provider.hasWebhooks
            ? ["delivered": outcome.statuses["delivered"] ?? 0, "bounced": outcome.statuses["bounced"] ?? 0] : [:]
        var stats = JSONValue.null
        repeat {
            stats = try await api.call("GET", "/api/batches/\(outcome.batchID)/stats", expect: [200, 503])
            guard let counts = stats["counts"] else { return nil }
            if counts["sent"]?.int ?? 0 >= outcome.sent, settled.allSatisfy({ counts[$0.key]?.int ?? 0 >= $0.value }) { break }
            try await Task.sleep(for: .milliseconds(500))
        } while Date() < deadline
        let counts = stats["counts"] ?? .null, rates = stats["rates"] ?? .null
        func rate(_ name: String) -> String {
            guard case .number(let value)? = rates[name] else { return "" }
            return String(format: " (%.1f%%)", value * 100)
        }
        var parts = ["sent \(counts["sent"]?.int ?? 0)"]
        if webhooks, outcome.provider.hasWebhooks {
            parts += ["delivered \(counts["delivered"]?.int ?? 0)\(rate("delivery"))",
                      "bounced \(counts["bounced"]?.int ?? 0)\(rate("bounce")): \(counts["bouncedHard"]?.int ?? 0) hard",
                      "complained \(counts["complained"]?.int ?? 0)\(rate("complaint"))",
                      "opened \(counts["opened"]?.int ?? 0)\(rate("open"))", "clicked \(counts["clicked"]?.int ?? 0)\(rate("click"))"]
        }
        if let failed = counts["failed"]?.int, failed > 0 { parts.append("failed \(failed)") }
        return "\(outcome.provider.rawValue) analytics (ClickHouse): " + parts.joined(separator: ", ")
    }

    /// The sandbox's own count of accepted messages and duplicate sends for the provider.
    func sandboxCounts(_ provider: Provider) async throws -> (accepted: Int, duplicates: Int) {
        let stats = try await APIClient.get(sandboxURL + "/sandbox/stats", http: api.http)
        let section = stats[provider.sandboxSection]
        return (section?["messages_accepted"]?.int ?? 0, section?["duplicate_sends"]?.int ?? 0)
    }
}
