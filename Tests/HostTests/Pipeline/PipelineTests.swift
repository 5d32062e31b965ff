import Analytics
import Domain
import Foundation
import HostCore
import Messaging
import Persistence
import ProviderInstances
import ProviderCrypto
import ProviderModel
import TestSupport
import Testing

/// The delivery pipeline end to end on the real stack and the provider
/// sandbox: `batchsender serve` processes, sends through every provider, and
/// faults made by killing processes and by the sandbox. Each test's deployment
/// has streams, consumers, keys and databases of its own (PipelineHarness), so
/// this suite runs beside PipelineWebhookTests; each of the two runs its tests one
/// at a time: one batch per pipeline suite on the machine's cores.
@Suite("Delivery pipeline: sending", .serialized)
struct PipelineTests {
    static func section(_ stats: [String: Any], _ provider: String) -> [String: Int] {
        (stats[provider] as? [String: Any] ?? [:]).compactMapValues { $0 as? Int }
    }

    static func csv(_ header: String = "email,name", count: Int, offset: Int = 0, address: (Int) -> String = { "user\($0)@example.org" }) -> String {
        var text = header + "\n"
        for index in offset..<(offset + count) { text += "\(address(index)),Name \(index)\n" }
        return text
    }

    /// A deployment sending a Resend batch of `count` slowly (every answer `slowMs` late; `lanes` lanes of 2 chunks)
    /// once the sandbox has accepted `accepted` of it.
    static func slowlySending(count: Int, slowMs: Int, lanes: Int, accepted: Int) async throws -> (TestSandbox, PipelineHarness, batch: String) {
        let sandbox = try TestSandbox(config: "[faults.resend]\nslow = 1.0\nslow_ms = \(slowMs)\n")
        let harness = try PipelineHarness(pipeline: "sender_lanes = \(lanes)\nfetch_batch = 2").started()
        do {
            let batch = try await harness.sendResendBatch(sandbox: sandbox, count: count)
            try await eventually("\(accepted) messages accepted") { try await sandbox.accepted() >= accepted }
            return (sandbox, harness, batch)
        } catch {
            harness.finish()
            throw error
        }
    }

    /// Waits until `batch` completes, expecting each of its `count` recipients sent and accepted by the sandbox once;
    /// the sandbox's Resend figures. Once: no key accepted twice, and no recipient given the same email twice under
    /// another key (a retry regrouped, say).
    @discardableResult
    static func expectSentOnce(_ harness: PipelineHarness, _ sandbox: TestSandbox, batch: String, count: Int, seconds: Int = 120) async throws -> [String: Int] {
        let detail = try await harness.wait(batch, seconds: seconds)
        #expect(PipelineHarness.counts(detail)["sent"] == count, "counters: \(PipelineHarness.counts(detail))")
        let rows = try harness.rowsByStatus(batch)
        let failures = rows == ["sent": count] ? [] : try harness.failures(batch)
        #expect(rows == ["sent": count], "rows: \(rows), \(failures)")
        let stats = Self.section(try await sandbox.stats(), "resend")
        #expect(stats["messages_accepted"] == count, "each recipient reached the sandbox")
        #expect(stats["duplicate_sends"] == 0, "and none twice")
        #expect(stats["duplicate_deliveries"] == 0, "and no recipient twice, whatever the key: \(stats)")
        return stats
    }

    /// A deployment running `roles`, a sandbox that lives as long as it, and a send-config of `provider` on that.
    static func deployment(roles: String, provider: String) async throws -> (harness: PipelineHarness, sandbox: TestSandbox, config: String) {
        let harness = try PipelineHarness().started(roles: roles)
        do {
            let sandbox = try TestSandbox()
            harness.companions.append(sandbox)
            return (harness, sandbox, try await harness.sendConfig(provider, sandbox: sandbox.url))
        } catch {
            harness.finish()
            throw error
        }
    }

    static var emailPayload: [String: Any] { ["subject": "Hello {{name}}", "html": "<p>Hi {{name}}</p>"] }

    @Test("every provider: all recipients terminal, batch completed, counters = rows = the sandbox's count, no duplicates, suppressed never sent",
          arguments: ["resend", "ses", "telnyx", "webhook"])
    func everyProvider(provider: String) async throws {
        let sandbox = try TestSandbox(config: "[ses]\nrequire_confirmation = false\n")
        let harness = try PipelineHarness().started()
        defer { harness.finish() }
        let config = try await harness.sendConfig(provider == "webhook" ? "custom-webhook" : provider, sandbox: sandbox.url)
        let count = 250
        // Webhook endpoints are not suppressible addresses (the API takes email addresses and phone numbers).
        let (csv, payload, suppressedAtUpload, suppressedLater): (String, [String: Any], String?, String?)
        switch provider {
        case "telnyx":
            csv = Self.csv("phone,name", count: count) { "+1312555\(String(format: "%04d", $0))" }
            payload = ["text": "Hi {{name}}"]
            (suppressedAtUpload, suppressedLater) = ("+13125550003", "+13125550007")
        case "webhook":
            csv = Self.csv("address,name", count: count) { "endpoint-\($0)" }
            payload = ["data": ["greeting": "Hi {{name}}"]]
            (suppressedAtUpload, suppressedLater) = (nil, nil)
        default:
            csv = Self.csv(count: count)
            payload = Self.emailPayload
            (suppressedAtUpload, suppressedLater) = ("user3@example.org", "user7@example.org")
        }
        if let suppressedAtUpload {
            try await harness.call("POST", "/api/suppressions", json: ["address": suppressedAtUpload, "reason": "manual"])
        }
        let batch = try await harness.batch(config: config, payload: payload, csv: csv)
        // Suppressed after the upload, before the send: the processor must skip it.
        if let suppressedLater {
            try await harness.call("POST", "/api/suppressions", json: ["address": suppressedLater, "reason": "manual"])
        }
        try await harness.call("POST", "/api/batches/\(batch)/send")
        let detail = try await harness.wait(batch)
        let counts = PipelineHarness.counts(detail)
        let rows = try harness.rowsByStatus(batch)
        let suppressed = suppressedAtUpload == nil ? 0 : 2
        #expect(rows == (suppressed == 0 ? ["sent": count] : ["sent": count - 2, "suppressed": 2]), "every recipient terminal")
        #expect(counts["sent"] == count - suppressed && counts["suppressed"] == suppressed && counts["pending"] == 0 && counts["failed"] == 0)
        let stats = Self.section(try await sandbox.stats(), provider == "webhook" ? "receiver" : provider)
        #expect(stats["messages_accepted"] == count - suppressed, "the sandbox got each sent recipient, and never the suppressed")
        #expect(stats["duplicate_sends"] == 0 && stats["duplicate_deliveries"] == 0, "none twice, by key or by recipient: \(stats)")
        let missingIDs = try harness.query("SELECT count(*) FROM recipients WHERE batch_id = $1 AND status = 'sent' AND provider_message_id IS NULL", [batch])
        #expect(missingIDs.first?[0] == "0", "every sent recipient has its provider message id")
    }

    @Test("each recipient's placeholders are rendered with its own variables; one missing a variable fails alone, with the reason")
    func templateRendered() async throws {
        let receiver = try TestHTTPServer()
        let harness = try PipelineHarness().started()
        defer { harness.finish() }
        let config = try await harness.sendConfig("custom-webhook", sandbox: "", url: receiver.url("/record"))
        let batch = try await harness.batch(config: config, payload: ["data": ["greeting": "Hi {{name}}, code {{code}}"]],
                                            csv: "address,name,code\na,Ada,1\nb,Grace,2\nc,Lin,\n")
        try await harness.call("POST", "/api/batches/\(batch)/send")
        try await harness.wait(batch)
        let recorded = try await APIHarnessFree.get(receiver.url("/recorded"))
        let greetings = Set(recorded.compactMap { body -> String? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else { return nil }
            return object["greeting"] as? String
        })
        // An empty CSV cell is a variable that is there (empty); the third recipient gets "code ".
        #expect(greetings == ["Hi Ada, code 1", "Hi Grace, code 2", "Hi Lin, code "])

        let missing = try await harness.sentBatch(config: config, payload: ["data": ["greeting": "Hi {{nickname}}"]], csv: "address,name\nd,Dee\n")
        try await harness.wait(missing)
        let row = try harness.query("SELECT status, last_error FROM recipients WHERE batch_id = $1", [missing]).first
        #expect(row?[0] == "failed")
        #expect(row?[1]?.contains("nickname") == true)
    }

    @Test("a batch made from a stored template sends the version it names, rendered per recipient, though the template changed since; a message too")
    func storedTemplateSent() async throws {
        let receiver = try TestHTTPServer()
        let harness = try PipelineHarness().started()
        defer { harness.finish() }
        let config = try await harness.sendConfig("custom-webhook", sandbox: "", url: receiver.url("/record"))
        let template = try await harness.call("POST", "/api/templates", json: ["name": "greeting", "channel": "webhook",
                                                                               "payload": ["data": ["greeting": "v1 Hi {{name}}"]]])["id"] as! String
        let pinned = try await harness.call("POST", "/api/batches", json: ["name": "pinned", "sendConfigId": config, "templateId": template])["id"] as! String
        try await harness.call("POST", "/api/batches/\(pinned)/recipients", csv: "address,name\na,Ada\nb,Grace\n")
        try await harness.call("PUT", "/api/templates/\(template)", json: ["payload": ["data": ["greeting": "v2 Hello {{name}}"]]])
        let latest = try await harness.call("POST", "/api/batches", json: ["name": "latest", "sendConfigId": config, "templateId": template])["id"] as! String
        try await harness.call("POST", "/api/batches/\(latest)/recipients", csv: "address,name\nc,Lin\n")
        let older = try await harness.call("POST", "/api/batches", json: ["name": "older", "sendConfigId": config, "templateId": template,
                                                                          "templateVersion": 1])["id"] as! String
        try await harness.call("POST", "/api/batches/\(older)/recipients", csv: "address,name\nd,Dee\n")
        for batch in [pinned, latest, older] {
            try await harness.call("POST", "/api/batches/\(batch)/send")
            try await harness.wait(batch)
        }
        try await harness.call("POST", "/api/messages", json: ["sendConfigId": config, "to": "e", "templateId": template, "variables": ["name": "Eve"]])
        try await eventually("the message delivered") { try await APIHarnessFree.get(receiver.url("/recorded")).count >= 5 }
        let recorded = try await APIHarnessFree.get(receiver.url("/recorded"))
        let greetings = recorded.compactMap { body -> String? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else { return nil }
            return object["greeting"] as? String
        }
        #expect(greetings.sorted() == ["v1 Hi Ada", "v1 Hi Dee", "v1 Hi Grace", "v2 Hello Eve", "v2 Hello Lin"], "\(greetings)")
        let versions = try harness.query("SELECT name, template_version FROM batches WHERE template_id = $1 ORDER BY name", [template])
        #expect(versions.map { [$0[0], $0[1]] } == [["latest", "2"], ["message", "2"], ["older", "1"], ["pinned", "1"]], "\(versions)")
    }

    @Test("one-click unsubscribe: every bulk email reaches the sandbox with RFC 8058's headers; a POST from a client with no cookies suppresses its address for its sender only; a forged token suppresses nothing",
          arguments: ["resend", "ses"])
    func oneClickUnsubscribe(provider: String) async throws {
        let sandbox = try TestSandbox(config: "[ses]\nrequire_confirmation = false\n")
        let harness = try PipelineHarness().started()
        defer { harness.finish() }
        let config = try await harness.sendConfig(provider, sandbox: sandbox.url)
        let count = 20
        let batch = try await harness.sentBatch(config: config, payload: Self.emailPayload, csv: Self.csv(count: count))
        try await harness.wait(batch)
        let stats = Self.section(try await sandbox.stats(), provider)
        #expect(stats["messages_accepted"] == count && stats["one_click_unsubscribe"] == count, "every bulk email carries the pair: \(stats)")
        // A transactional message may leave it out.
        try await harness.call("POST", "/api/messages", json: ["sendConfigId": config, "to": "receipt@example.org", "listUnsubscribe": false,
                                                               "payload": ["subject": "Your receipt", "text": "Thanks"]])
        try await eventually("the receipt accepted") { Self.section(try await sandbox.stats(), provider)["messages_accepted"] == count + 1 }
        #expect(Self.section(try await sandbox.stats(), provider)["one_click_unsubscribe"] == count)
        // Kept with the message, for a send by stuck-batch recovery (which expands it as a batch).
        let optedOut = try harness.query("SELECT count(*) FROM batches WHERE kind = 'message' AND list_unsubscribe = false")
        #expect(optedOut.first?[0] == "1")

        let links = try await sandbox.get("/sandbox/unsubscribe-links?provider=\(provider)")["links"] as? [[String: Any]] ?? []
        let link = try #require(links.first { ($0["to"] as? String) == "user5@example.org" }?["url"] as? String, "\(links.prefix(3))")
        #expect(link.hasPrefix("http://127.0.0.1:\(harness.apiPort)/unsubscribe/"), "\(link)")
        // A link scanner's GET unsubscribes no one.
        #expect(await Self.anonymous("GET", link).status == 200)
        #expect((try await harness.call("GET", "/api/suppressions")["data"] as? [[String: Any]])?.isEmpty == true, "a GET changed nothing")
        // A mail client's one click: a POST with RFC 8058's body, no cookie, no key.
        let clicked = await Self.anonymous("POST", link, body: "List-Unsubscribe=One-Click")
        #expect(clicked.status == 200, "\(clicked.status) \(clicked.text)")
        let page = await Self.anonymous("GET", link)
        #expect(page.status == 200 && page.text.contains("user5@example.org") && page.text.contains("<form method=\"post\""), "\(page.text)")
        #expect(await Self.anonymous("POST", link, body: "List-Unsubscribe=One-Click").status == 200, "a second click answers as the first")
        let forged = link.dropLast(2) + (link.hasSuffix("AA") ? "BB" : "AA")
        #expect(await Self.anonymous("POST", String(forged), body: "List-Unsubscribe=One-Click").status == 404)
        #expect(await Self.anonymous("POST", "http://127.0.0.1:\(harness.apiPort)/unsubscribe/nonsense", body: "").status == 404)

        let suppressions = try await harness.call("GET", "/api/suppressions")["data"] as? [[String: Any]] ?? []
        #expect(suppressions.count == 1 && suppressions.first?["address"] as? String == "user5@example.org"
                && suppressions.first?["source"] as? String == "unsubscribe" && suppressions.first?["reason"] as? String == "unsubscribe", "\(suppressions)")
        // Another sender on the same deployment still sends to the address.
        let other = try harness.makeKey(email: "other-sender@example.com")
        #expect((try await harness.call("GET", "/api/suppressions", token: other)["data"] as? [[String: Any]])?.isEmpty == true)
        let otherConfig = try await harness.sendConfig(provider, sandbox: sandbox.url, token: other)
        let otherBatch = try await harness.sentBatch(config: otherConfig, payload: Self.emailPayload, csv: Self.csv(count: 10), token: other)
        let otherDetail = try await harness.wait(otherBatch, token: other)
        #expect(PipelineHarness.counts(otherDetail)["sent"] == 10 && PipelineHarness.counts(otherDetail)["suppressed"] == 0,
                "user5 unsubscribed from one sender only: \(otherDetail["counts"] ?? "")")
        // The next batch to the same list leaves the address out.
        let next = try await harness.sentBatch(config: config, payload: Self.emailPayload, csv: Self.csv(count: count))
        let detail = try await harness.wait(next)
        #expect(PipelineHarness.counts(detail)["suppressed"] == 1)
    }

    @Test("attachments: a stored file reaches every recipient of a batch and a message byte for byte, in the provider's own format",
          arguments: ["resend", "ses"])
    func attachmentsDelivered(provider: String) async throws {
        let sandbox = try TestSandbox(config: "[ses]\nrequire_confirmation = false\n")
        let harness = try PipelineHarness().started()
        defer { harness.finish() }
        let config = try await harness.sendConfig(provider, sandbox: sandbox.url)
        // Every byte value, and 1.5 MiB of them: a file larger than a queue message, with padding at its end.
        let pdf = (0..<(3 << 19) + 1).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        let notes = Array("meeting notes: ✓".utf8)
        let first = try await harness.call("POST", "/api/attachments?filename=invoice%2042.pdf", raw: (pdf, "application/pdf"), expect: 201)
        let second = try await harness.call("POST", "/api/attachments?filename=notes.txt", raw: (notes, "text/plain; charset=utf-8"), expect: 201)
        #expect(first["size"] as? Int == pdf.count && first["filename"] as? String == "invoice 42.pdf" && first["contentType"] as? String == "application/pdf")
        #expect(second["contentType"] as? String == "text/plain")
        let ids = [first["id"] as! String, second["id"] as! String]
        let count = 12
        let batch = try await harness.call("POST", "/api/batches", json: ["name": "files", "sendConfigId": config, "payload": Self.emailPayload,
                                                                          "attachments": ids])["id"] as! String
        try await harness.call("POST", "/api/batches/\(batch)/recipients", csv: Self.csv(count: count))
        try await harness.call("POST", "/api/batches/\(batch)/send")
        let detail = try await harness.wait(batch)
        #expect(PipelineHarness.counts(detail)["sent"] == count, "\(detail["counts"] ?? "")")
        #expect((detail["attachments"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ids)
        try await harness.call("POST", "/api/messages", json: ["sendConfigId": config, "to": "receipt@example.org", "attachments": [ids[0]],
                                                               "payload": ["subject": "Your invoice", "text": "Attached"]])
        try await eventually("the message accepted") { Self.section(try await sandbox.stats(), provider)["messages_accepted"] == count + 1 }

        let received = try await sandbox.get("/sandbox/attachments?provider=\(provider)")["attachments"] as? [[String: Any]] ?? []
        let pdfHash = Encoding.hex(Digest.sha256(pdf)), notesHash = Encoding.hex(Digest.sha256(notes))
        for index in 0..<count {
            let files = received.filter { $0["to"] as? String == "user\(index)@example.org" }
            #expect(files.map { $0["sha256"] as? String } == [pdfHash, notesHash] && files.map { $0["filename"] as? String } == ["invoice 42.pdf", "notes.txt"],
                    "user\(index): \(files)")
        }
        let receipt = received.filter { $0["to"] as? String == "receipt@example.org" }
        #expect(receipt.map { $0["sha256"] as? String } == [pdfHash] && receipt.first?["content_type"] as? String == "application/pdf", "\(receipt)")
        let stats = Self.section(try await sandbox.stats(), provider)
        #expect(stats["duplicate_deliveries"] == 0 && stats["attachments"] == 2 * count + 1, "\(stats)")

        // A file is stored once and named from any number of batches; a deleted one is named by none after.
        try await harness.call("DELETE", "/api/attachments/\(ids[1])", expect: 204)
        let refused = try await harness.call("POST", "/api/batches", json: ["name": "late", "sendConfigId": config, "payload": Self.emailPayload,
                                                                            "attachments": [ids[1]]], expect: 422)
        #expect((refused["error"] as? [String: Any])?["field"] as? String == "attachments[0]", "\(refused)")
    }

    /// A request with no Authorization and no cookie, as a mail client makes it.
    static func anonymous(_ method: String, _ url: String, body: String? = nil) async -> (status: Int, text: String) {
        let headers = body == nil ? [] : [KeyValue("Content-Type", "application/x-www-form-urlencoded")]
        let result = await CurlHTTPClient().execute(PreparedRequest(method: method, url: url, headers: headers, body: Array((body ?? "").utf8),
                                                                    messageIndices: []), timeoutMs: 10_000)
        return (result.status, String(decoding: result.body, as: UTF8.self))
    }

    /// Ack wait and claim hold for the tests that kill a sender: what a dead worker costs before its jobs are sent again.
    static let quickRecovery = "ack_wait_ms = 5000\nclaim_hold_ms = 10000"

    @Test("kill -9 of the sender mid-batch, then a restart: the batch completes with 0 lost and 0 duplicates")
    func senderKilled() async throws {
        let sandbox = try TestSandbox()
        // The killed sender's jobs come back after the ack wait and its recipients after the claim hold:
        // shorter than the defaults (30 s, 45 s), still far above a round against the sandbox.
        let harness = try PipelineHarness(pipeline: Self.quickRecovery)
        defer { harness.finish() }
        try harness.start("control", roles: "api,discoverer,processor,background")
        try harness.start("sender", roles: "sender")
        let count = 30_000
        let batch = try await harness.sendResendBatch(sandbox: sandbox, count: count)
        try await eventually { (PipelineHarness.counts(try await harness.detail(batch))["sent"] ?? 0) >= 5_000 }
        harness.kill9("sender")
        try harness.start("sender", roles: "sender")
        try await Self.expectSentOnce(harness, sandbox, batch: batch, count: count, seconds: 240)
    }

    @Test("kill -9 of the processor mid-expansion, then a restart: the batch completes with 0 lost and 0 duplicates")
    func processorKilled() async throws {
        let sandbox = try TestSandbox()
        // Small pages make the expansion long enough to be killed in the middle of.
        let harness = try PipelineHarness(pipeline: "page_size = 50")
        defer { harness.finish() }
        try harness.start("control", roles: "api,discoverer,sender,background")
        try harness.start("processor", roles: "processor")
        // 240 pages: seconds of expansion to be killed in, the rest sent after the 10 s ack wait.
        let count = 12_000
        let batch = try await harness.sendResendBatch(sandbox: sandbox, count: count)
        try await eventually {
            let row = try harness.query("SELECT cursor_position > 0, expanded_at IS NULL FROM batches WHERE id = $1", [batch]).first
            return row?[0] == "t" && row?[1] == "t"
        }
        harness.kill9("processor")
        let cursorAtKill = try harness.query("SELECT cursor_position FROM batches WHERE id = $1", [batch]).first?[0] ?? nil
        try harness.start("processor", roles: "processor")
        let stats = try await Self.expectSentOnce(harness, sandbox, batch: batch, count: count, seconds: 240)
        #expect(stats["idempotent_replays"] == 0, "the resumed expansion published no chunk twice (cursor was \(cursorAtKill ?? "?"))")
    }

    @Test("throttling (429) is a delay: every recipient sent with one attempt")
    func throttledUsesNoAttempt() async throws {
        let sandbox = try TestSandbox(config: "[faults.resend]\nrate_limited = 0.3\n")
        let harness = try PipelineHarness().started()
        defer { harness.finish() }
        let batch = try await harness.sendResendBatch(sandbox: sandbox, count: 3_000)
        let stats = try await Self.expectSentOnce(harness, sandbox, batch: batch, count: 3_000)
        let attempts = try harness.query("SELECT min(attempts), max(attempts) FROM recipients WHERE batch_id = $1", [batch]).first
        #expect(attempts?[0] == "1" && attempts?[1] == "1", "a throttled send used no attempt")
        #expect((stats["faults_injected"] ?? 0) > 0)
    }

    @Test("rate_limited 0.3 and server_error 0.1 faults: every recipient still ends sent, nothing twice")
    func faultsStillDeliver() async throws {
        let sandbox = try TestSandbox(config: "[faults.resend]\nrate_limited = 0.3\nserver_error = 0.1\n")
        let harness = try PipelineHarness(pipeline: Self.lossyAttempts).started()
        defer { harness.finish() }
        let batch = try await harness.sendResendBatch(sandbox: sandbox, count: 3_000)
        try await Self.expectSentOnce(harness, sandbox, batch: batch, count: 3_000)
        let retried = try harness.query("SELECT count(*) FROM recipients WHERE batch_id = $1 AND attempts > 1", [batch]).first?[0] ?? nil
        #expect((Int(retried ?? "0") ?? 0) > 0, "server errors used attempts")
    }

    @Test("lost responses on Resend: the idempotency key keeps it to 0 duplicates")
    func lostResponses() async throws {
        let sandbox = try TestSandbox(config: "[faults.resend]\nlost_response = 0.2\n")
        let harness = try PipelineHarness(pipeline: Self.lossyAttempts).started()
        defer { harness.finish() }
        let batch = try await harness.sendResendBatch(sandbox: sandbox, count: 3_000)
        let stats = try await Self.expectSentOnce(harness, sandbox, batch: batch, count: 3_000)
        #expect((stats["faults_injected"] ?? 0) > 0)
        #expect((stats["idempotent_replays"] ?? 0) > 0, "retries after lost responses were answered from the provider's idempotency store")
    }

    @Test("a permanent refusal for one recipient leaves its chunk-mates sent, and says why")
    func permanentRefusalAlone() async throws {
        let sandbox = try TestSandbox()
        let harness = try PipelineHarness().started()
        defer { harness.finish() }
        let config = try await harness.sendConfig("ses", sandbox: sandbox.url)
        let batch = try await harness.batch(config: config, payload: Self.emailPayload,
                                            csv: "email,name\na@example.org,A\nrejected@example.org,R\nb@example.org,B\n")
        try await harness.call("POST", "/api/batches/\(batch)/send")
        let detail = try await harness.wait(batch)
        #expect(try harness.rowsByStatus(batch) == ["sent": 2, "failed": 1])
        #expect(PipelineHarness.counts(detail)["failed"] == 1)
        let row = try harness.query("SELECT last_error, attempts FROM recipients WHERE batch_id = $1 AND status = 'failed'", [batch]).first
        #expect(row?[0]?.contains("MESSAGE_REJECTED") == true || row?[0]?.contains("MessageRejected") == true)
        #expect(row?[1] == "1", "a permanent refusal is not retried")
    }

    @Test("out of attempts: failed with the last reason and dead-lettered; dlq list shows them, dlq redrive sends them once the provider is reachable")
    func deadLetters() async throws {
        let sandbox = try TestSandbox()
        let harness = try PipelineHarness(pipeline: "max_attempts = 2").started()
        defer { harness.finish() }
        // Nothing listens on port 9: every send is a transport failure, retryable, until the attempts run out.
        let config = try await harness.sendConfig("resend", sandbox: "http://127.0.0.1:9")
        let batch = try await harness.sentBatch(config: config, payload: Self.emailPayload, csv: Self.csv(count: 20))
        var detail = try await harness.wait(batch)
        #expect(PipelineHarness.counts(detail)["failed"] == 20)
        let row = try harness.query("SELECT attempts, last_error FROM recipients WHERE batch_id = $1 LIMIT 1", [batch]).first
        #expect(row?[0] == "2")
        #expect(row?[1]?.contains("gave up after 2 attempts") == true)
        let listed = try harness.cli(["dlq", "list", "--batch", batch])
        #expect(listed.status == 0)
        let letters = listed.output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(letters.flatMap { $0["addresses"] as? [String] ?? [] }.count == 20)

        try await harness.call("PATCH", "/api/send-configs/\(config)", json: ["credentials": ["base_url": sandbox.url]])
        // The sender's cached instance is made again within its recheck time (5 s, SendConfigInstances.recheckMs).
        // Nothing outside the sender shows when it rereads the config, and the code takes no clock a test could
        // move, so the test waits that time out: the wait is the point here.
        try await Task.sleep(for: .seconds(6))
        let redriven = try harness.cli(["dlq", "redrive", "--batch", batch])
        #expect(redriven.status == 0 && redriven.output.contains("20 recipients"), "\(redriven.output)")
        detail = try await harness.wait(batch)
        #expect(PipelineHarness.counts(detail)["sent"] == 20 && PipelineHarness.counts(detail)["failed"] == 0)
        #expect(try harness.rowsByStatus(batch) == ["sent": 20])
        #expect(Self.section(try await sandbox.stats(), "resend")["messages_accepted"] == 20)
        #expect(try harness.cli(["dlq", "list", "--batch", batch]).output.isEmpty, "re-driven letters are gone")
    }

    @Test("a processing batch without progress is resumed by the recovery job: expanded again, nothing sent twice")
    func stuckBatchResumed() async throws {
        let sandbox = try TestSandbox()
        let harness = try PipelineHarness(pipeline: "stuck_after_ms = 1500\nrecovery_interval_ms = 1000")
        defer { harness.finish() }
        // No processor yet: the batch is discovered and marked processing, then makes no progress.
        try harness.start("control", roles: "api,discoverer,sender,background")
        let batch = try await harness.sendResendBatch(sandbox: sandbox, count: 2_000)
        try await eventually {
            (try harness.query("SELECT recoveries FROM batches WHERE id = $1", [batch]).first?[0]).flatMap { $0.flatMap { Int($0) } } ?? 0 >= 1
        }
        try harness.start("processor", roles: "processor")
        let detail = try await harness.wait(batch)
        #expect(PipelineHarness.counts(detail)["sent"] == 2_000)
        #expect(try harness.rowsByStatus(batch) == ["sent": 2_000])
        let stats = Self.section(try await sandbox.stats(), "resend")
        #expect(stats["messages_accepted"] == 2_000)
        #expect(stats["duplicate_sends"] == 0 && stats["duplicate_deliveries"] == 0, "none twice, by key or by recipient: \(stats)")
    }

    @Test("a scheduled batch is sent when due, not before")
    func scheduled() async throws {
        let sandbox = try TestSandbox()
        let harness = try PipelineHarness().started()
        defer { harness.finish() }
        let config = try await harness.sendConfig("resend", sandbox: sandbox.url)
        let batch = try await harness.batch(config: config, payload: Self.emailPayload, csv: Self.csv(count: 10))
        let due = Date().addingTimeInterval(3)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        try await harness.call("POST", "/api/batches/\(batch)/send", json: ["scheduledAt": formatter.string(from: due)])
        #expect(try await harness.detail(batch)["status"] as? String == "queued")
        try await harness.wait(batch, seconds: 30)
        // Not before: the batch started, and every message reached the sandbox, at or after the time it was due
        // (one clock, the machine's; 50 ms for the rounding of the stored time).
        let dueMs = Int64(due.timeIntervalSince1970 * 1_000)
        let started = try harness.query("SELECT extract(epoch FROM started_at) FROM batches WHERE id = $1", [batch]).first?[0] ?? nil
        #expect((Double(started ?? "0") ?? 0) >= due.timeIntervalSince1970 - 0.05)
        let arrivals = try await RateLimitTests.arrivals(sandbox, "resend")
        #expect(arrivals.count == 10 && arrivals.allSatisfy { $0 >= dueMs - 50 }, "arrivals \(arrivals.map { $0 - dueMs }) ms after the due time")
    }

    @Test("cancel mid-send: nothing reaches the sandbox after the cancel is answered (it waits for the sends in flight, which are recorded)")
    func cancelMidSend() async throws {
        // Slow answers and small rounds (2 lanes of 2 chunks) keep the batch sending for many seconds, so the
        // cancel lands in the middle and what follows it is countable. One connection to the provider: of the 4
        // requests claimed at once, 3 wait for it, claimed before the cancel and not yet sent when it lands.
        let count = 20_000
        let sandbox = try TestSandbox(config: "[faults.resend]\nslow = 1.0\nslow_ms = 300\n")
        let harness = try PipelineHarness(pipeline: "sender_lanes = 2\nfetch_batch = 2", tables: "[http]\nmax_connections_per_host = 1").started()
        defer { harness.finish() }
        let batch = try await harness.sendResendBatch(sandbox: sandbox, count: count)
        try await eventually("1,000 messages accepted") { try await sandbox.accepted() >= 1_000 }
        try await harness.call("POST", "/api/batches/\(batch)/cancel")
        let requestsAtCancel = Self.section(try await sandbox.stats(), "resend")["requests"] ?? 0
        // Every recipient sent or cancelled: what was queued is cancelled; what was on the wire is answered within
        // the slow answer and then recorded as sent.
        try await eventually("every recipient sent or cancelled", timeout: .seconds(30)) {
            let rows = try harness.rowsByStatus(batch)
            return (rows["sent"] ?? 0) + (rows["cancelled"] ?? 0) == count
        }
        let settled = Self.section(try await sandbox.stats(), "resend")
        // What must not happen: a request started after that. A lane still sending would start one every slow answer
        // (300 ms): a second of them is the wait, long enough too for the requests on the wire to be answered.
        let nothingLater = try await holds(for: .seconds(1)) {
            Self.section(try await sandbox.stats(), "resend")["requests"] == settled["requests"]
        }
        #expect(nothingLater, "nothing sent after the cancel settled")
        #expect((settled["requests"] ?? 0) == requestsAtCancel, "the sends claimed before the cancel went out before its answer")
        let final = Self.section(try await sandbox.stats(), "resend")
        #expect((final["messages_accepted"] ?? 0) < count / 2, "the cancel stopped the batch in the middle")
        // The answers to the requests on the wire are recorded (the rows), and counted (the counters, synced every 200 ms).
        try await eventually("the counters synced", timeout: .seconds(30)) {
            PipelineHarness.counts(try await harness.detail(batch))["sent"] == (try harness.rowsByStatus(batch))["sent"]
        }
        let detail = try await harness.detail(batch)
        let counts = PipelineHarness.counts(detail)
        let rows = try harness.rowsByStatus(batch)
        #expect(detail["status"] as? String == "cancelled")
        #expect(rows["sent"] == final["messages_accepted"], "in-flight sends are recorded as sent")
        #expect((rows["sent"] ?? 0) + (rows["cancelled"] ?? 0) == count)
        #expect(counts["cancelled"] == rows["cancelled"])
        #expect(counts["sent"] == rows["sent"])
    }

    @Test("a cancel whose flag did not reach the workers (Redis away) takes effect when retried, though the batch is already cancelled (409)")
    func cancelRetried() async throws {
        let sandbox = try TestSandbox()
        let harness = try PipelineHarness().started(roles: "api")
        defer { harness.finish() }
        let batch = try await harness.sendResendBatch(sandbox: sandbox, count: 5)
        try await harness.call("POST", "/api/batches/\(batch)/cancel")
        let redis = try RedisConnection(url: try StackEnvironment.value("REDIS_URL"))
        let flag = "test:\(harness.databaseName):pipeline:b:\(batch):cancel"
        #expect(try redis.command(["EXISTS", flag]).integer == 1)
        _ = try redis.command(["DEL", flag])
        try await harness.call("POST", "/api/batches/\(batch)/cancel", expect: 409)
        #expect(try redis.command(["EXISTS", flag]).integer == 1, "the retried cancel set the flag again")
    }

    @Test("a cancel whose flag Redis lost (a 503 cancel, or data gone) is flagged again by the background role, unasked")
    func cancelFlaggedAgain() async throws {
        let sandbox = try TestSandbox()
        let harness = try PipelineHarness().started(roles: "api,discoverer,background")
        defer { harness.finish() }
        let batch = try await harness.sendResendBatch(sandbox: sandbox, count: 5)
        try await eventually("the batch started") { try await harness.detail(batch)["status"] as? String == "processing" }
        try await harness.call("POST", "/api/batches/\(batch)/cancel")
        let redis = try RedisConnection(url: try StackEnvironment.value("REDIS_URL"))
        let flag = "test:\(harness.databaseName):pipeline:b:\(batch):cancel"
        _ = try redis.command(["DEL", flag])
        try await eventually("the flag set again") { try redis.command(["EXISTS", flag]).integer == 1 }
    }

    @Test("a batch whose plugin is no longer loaded fails with that reason, and so do its recipients")
    func pluginGone() async throws {
        let sandbox = try TestSandbox()
        let full = try PipelineHarness()
        defer { full.finish() }
        try full.start("host", roles: "api")
        let config = try await full.sendConfig("ses", sandbox: sandbox.url)
        let batch = try await full.batch(config: config, payload: Self.emailPayload, csv: Self.csv(count: 5))
        try await full.call("POST", "/api/batches/\(batch)/send")
        full.kill9("host")
        // The same deployment restarted without the SES plugin.
        let reduced = try PipelineHarness.reusing(full, plugins: ["Resend"])
        defer { reduced.finish() }
        try reduced.start("host")
        let detail = try await reduced.wait(batch, for: ["failed"], seconds: 30)
        let reason = (detail["progress"] as? [String: Any])?["failureReason"] as? String ?? ""
        #expect(reason.contains("ses plugin is not loaded"))
        #expect(try full.rowsByStatus(batch) == ["failed": 5])
    }
}

/// Plain GETs outside a deployment (the recording server).
enum APIHarnessFree {
    static func get(_ url: String) async throws -> [String] {
        try JSONSerialization.jsonObject(with: Data(await LoopbackHTTP.get(url).body)) as? [String] ?? []
    }
}
