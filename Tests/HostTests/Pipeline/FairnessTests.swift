import Analytics
import Domain
import Foundation
import HostCore
import Messaging
import Persistence
import ProviderModel
import TestSupport
import Testing

/// Tenants share the senders, and single messages go first: measured on the real stack while a large
/// bulk batch is sending.
/// Part of PipelineTests (a test at a time, beside the webhook suite).
extension PipelineTests {
    static let fairSandboxConfig = "[resend]\nrate_limit_per_second = 1000000\n"

    /// A started deployment, a sandbox, tenant A's bulk batch of `count` sending, and tenant B's key.
    static func bulkSending(_ count: Int) async throws -> (TestSandbox, PipelineHarness, bulk: String) {
        let sandbox = try TestSandbox(config: fairSandboxConfig)
        let harness = try PipelineHarness()
        try harness.start("host")
        let config = try await harness.sendConfig("resend", sandbox: sandbox.url)
        let bulk = try await harness.sentBatch(config: config, payload: PipelineTests.emailPayload, csv: PipelineTests.csv(count: count))
        // Well under way: its chunks fill the queues.
        try await eventually { (PipelineHarness.counts(try await harness.detail(bulk))["sent"] ?? 0) >= 2_000 }
        return (sandbox, harness, bulk)
    }

    /// Not a time bound (how fast A's batch sends is the machine's): B's batch must get through while A's is still
    /// sending, and without waiting for A's backlog, which first-come-first-served would make it do. A quarter of the
    /// backlog is the line: one run sent 12% of it (22,400 of 190,000) while B's waited 3.8 s.
    @Test("Tenant B's 10-recipient batch, queued after tenant A's 200,000, completes while A's is still sending, A having sent a small part of its backlog meanwhile")
    func smallTenantIsNotStarved() async throws {
        let (sandbox, harness, bulk) = try await Self.bulkSending(200_000)
        defer { harness.finish() }
        let owner = harness.key
        harness.key = try harness.makeKey(email: "tenant-b@example.com")
        let config = try await harness.sendConfig("resend", sandbox: sandbox.url)
        let small = try await harness.batch(config: config, payload: PipelineTests.emailPayload,
                                            csv: PipelineTests.csv(count: 10, offset: 500_000))
        let queuedAt = Date()
        let acceptedAtQueue = try await sandbox.accepted()
        try await harness.call("POST", "/api/batches/\(small)/send")
        try await harness.wait(small, seconds: 30)
        let took = Date().timeIntervalSince(queuedAt)
        let sentMeanwhile = try await sandbox.accepted() - acceptedAtQueue - 10
        harness.key = owner
        let big = try await harness.detail(bulk)
        #expect(big["status"] as? String == "processing", "A's batch was still sending when B's completed: \(PipelineHarness.counts(big))")
        let backlog = 200_000 - acceptedAtQueue
        #expect(sentMeanwhile < backlog / 4, "A sent \(sentMeanwhile) of the \(backlog) messages it had waiting while B's batch waited \(took) s")
    }

    /// The deployment's limit in the shared-limit test (a managed account's default), and tenant A's batch there:
    /// 20,000 by default (200 chunks of 100, all waiting on the limit); `BATCHSENDER_FAIR_BULK` sets another size
    /// (200,000 by hand). At 100/s a bucket holds 8, so B's 10 cannot all go in the gap between two of A's takes:
    /// B waits for an appointment (at 1,000/s they did, and B was through in 0.4 s with one line for all).
    static let sharedLimit = 100
    static let sharedLimitBulk = Int(ProcessInfo.processInfo.environment["BATCHSENDER_FAIR_BULK"] ?? "") ?? 20_000

    /// A bound in time, unlike the test above: what makes B wait here is the shared bucket, not the machine. One line of
    /// appointments for all made each of B's appointments wait out every chunk of A's in it (half a bucket each, so
    /// 8 s for 200 chunks): B's batch took 24.4 and 16.9 s, and at 200,000 was still 3 short after 60 s.
    @Test("With the system limit binding (100/s) and tenant A's 20,000 recipients waiting on it, tenant B's 10-recipient batch completes within 5 s")
    func smallTenantUnderSharedLimit() async throws {
        let sandbox = try TestSandbox(config: Self.fairSandboxConfig)
        let limits = SendRateLimits.unlimitedTOML.replacingOccurrences(of: "[limits]\n", with: "[limits]\nsystem = \(Self.sharedLimit)\n")
        let harness = try PipelineHarness(limits: limits).started()
        defer { harness.finish() }
        let config = try await harness.sendConfig("resend", sandbox: sandbox.url)
        let bulk = try await harness.sentBatch(config: config, payload: PipelineTests.emailPayload, csv: PipelineTests.csv(count: Self.sharedLimitBulk))
        // Three seconds at the limit: A's chunks are all out and waiting for their appointments.
        try await eventually("A's batch sending at the limit", timeout: .seconds(60)) {
            (PipelineHarness.counts(try await harness.detail(bulk))["sent"] ?? 0) >= 3 * Self.sharedLimit
        }
        let owner = harness.key
        harness.key = try harness.makeKey(email: "tenant-b@example.com")
        let otherConfig = try await harness.sendConfig("resend", sandbox: sandbox.url)
        let small = try await harness.batch(config: otherConfig, payload: PipelineTests.emailPayload,
                                            csv: PipelineTests.csv(count: 10, offset: 500_000))
        let queuedAt = Date()
        try await harness.call("POST", "/api/batches/\(small)/send")
        try await harness.wait(small, seconds: 60)
        let took = Date().timeIntervalSince(queuedAt)
        harness.key = owner
        let big = PipelineHarness.counts(try await harness.detail(bulk))
        print("shared limit: B's 10 completed in \(took) s; A had sent \(big["sent"] ?? 0) of \(Self.sharedLimitBulk)")
        #expect(took < 5, "B's batch took \(took) s behind A's \(Self.sharedLimitBulk) (A sent: \(big["sent"] ?? 0))")
        #expect((big["sent"] ?? 0) < Self.sharedLimitBulk, "A's batch was still sending when B's completed: \(big)")
    }

    /// Timed against a 1 s bound: run alone by scripts/test (BATCHSENDER_TIMING=1), as beside forty other tests on
    /// two cores the other suites' load stood in its median (1.06 and 1.28 s in two full runs; it passes alone).
    /// Alone in fresh clones it still measured 1.21–1.46 s: the message queued behind the bulk's requests at the gate,
    /// in libcurl and at the sandbox, and behind its statements for connections; its own client, a place ahead in the
    /// pools and the bulk held while it goes brought a round from about 0.6 s to 0.3 s.
    @Test("POST /api/messages while a 200,000-recipient batch of the same tenant sends: sent (accepted by the sandbox, its recording begun: sentAt) within 1 s, median of 20; status readable within 30 s; Idempotency-Key replays without sending",
          .enabled(if: ProcessInfo.processInfo.environment["BATCHSENDER_TIMING"] == "1", "run alone by scripts/test"))
    func priorityMessages() async throws {
        let (sandbox, harness, bulk) = try await Self.bulkSending(200_000)
        defer { harness.finish() }
        let config = try await harness.sendConfig("resend", sandbox: sandbox.url)
        var latencies: [Double] = []
        var ids: [String] = []
        // Per message: the bulk messages the sandbox accepted while it waited, and the bulk's backlog when it was sent.
        var overtaking: [(sentMeanwhile: Int, backlog: Int)] = []
        for index in 0..<20 {
            let acceptedAtPost = try await sandbox.accepted()
            let started = Date()
            let answer = try await harness.call("POST", "/api/messages", json: [
                "sendConfigId": config, "to": "urgent\(index)@example.org", "variables": ["name": "Ada"],
                "payload": ["subject": "Code for {{name}}", "text": "Your code is 1234"]], expect: 202)
            let id = try #require(answer["id"] as? String)
            ids.append(id)
            // Its status turns sent once the sandbox accepted it and the sender recorded that, at its `sentAt` (the
            // recording's own time, on this machine's clock): the measure, rather than when a poll of the loaded
            // API got round to showing it (each poll took 0.1–0.3 s beside the bulk batch).
            var shown: [String: Any] = [:]
            try await eventually("message \(id) sent", timeout: .seconds(30), interval: .milliseconds(20)) {
                shown = try await harness.call("GET", "/api/messages/\(id)")
                return shown["status"] as? String == "sent"
            }
            let sentAt = try #require(ISO8601.milliseconds(shown["sentAt"] as? String ?? ""), "sentAt: \(shown)")
            latencies.append(Double(sentAt) / 1000 - started.timeIntervalSince1970)
            overtaking.append((try await sandbox.accepted() - acceptedAtPost - 1, 200_000 - acceptedAtPost))
        }
        // The order, whatever the machine's speed: each message goes ahead of the bulk's backlog (first come, first
        // served would send all of it first).
        let overtaken = overtaking.sorted { $0.sentMeanwhile < $1.sentMeanwhile }[overtaking.count / 2]
        #expect(overtaken.sentMeanwhile < overtaken.backlog / 4,
                "median: \(overtaken.sentMeanwhile) bulk messages sent while one waited, of \(overtaken.backlog) waiting")
        let median = latencies.sorted()[latencies.count / 2]
        #expect(median < 1, "median accepted-by-the-sandbox time \(median) s; all: \(latencies.map { (($0 * 1000).rounded()) })")
        #expect((try await harness.detail(bulk))["status"] as? String == "processing", "the bulk batch was still sending")
        let shown = try await harness.call("GET", "/api/messages/\(ids[0])")
        #expect(shown["to"] as? String == "urgent0@example.org" && (shown["providerMessageId"] as? String)?.isEmpty == false)

        // A replay of the same request under the same key returns the first answer and sends nothing. Sent through
        // a sandbox of their own, these messages are the only ones it counts (the bulk batch's go to the other).
        let replays = try TestSandbox(config: Self.fairSandboxConfig)
        let replayConfig = try await harness.sendConfig("resend", sandbox: replays.url)
        let body: [String: Any] = ["sendConfigId": replayConfig, "to": "once@example.org", "payload": ["subject": "Once", "text": "Only once"]]
        let first = try await harness.call("POST", "/api/messages", json: body, expect: 202, headers: ["Idempotency-Key": "order-77"])
        let again = try await harness.call("POST", "/api/messages", json: body, expect: 202, headers: ["Idempotency-Key": "order-77"])
        #expect(first["id"] as? String == again["id"] as? String && again["status"] as? String == first["status"] as? String)
        let other: [String: Any] = ["sendConfigId": replayConfig, "to": "twice@example.org", "payload": ["subject": "Other", "text": "Other"]]
        try await harness.call("POST", "/api/messages", json: other, expect: 409, headers: ["Idempotency-Key": "order-77"])
        let id = try #require(first["id"] as? String)
        try await eventually { (try await harness.call("GET", "/api/messages/\(id)"))["status"] as? String == "sent" }
        func accepted() async throws -> Int { try await replays.accepted() }
        #expect(try await accepted() == 1, "the message was accepted once")
        // What must not happen: a second send of the replayed request. It would have been queued with the first, so
        // it would arrive within a few of the sender's rounds; half a second of them is the wait.
        let sentNothingMore = try await holds(for: .milliseconds(500)) { try await accepted() == 1 }
        let finally = try await accepted()
        #expect(sentNothingMore && finally == 1, "the replay sent nothing: \(finally) accepted")
        let sentOnce = try harness.query("""
            SELECT count(*) FROM batches b JOIN idempotency_keys k ON k.resource_id::text = b.id::text
            WHERE b.kind = 'message' AND k.key = 'order-77'
            """)
        #expect(sentOnce.first?[0] == "1", "one message for the key")
        let listed = try await harness.call("GET", "/api/batches?limit=100")
        #expect((listed["data"] as? [[String: Any]] ?? []).allSatisfy { $0["id"] as? String != id }, "messages are not listed as batches")
    }

    @Test("POST /api/messages refuses bad input naming the field: unknown config, bad address, missing variable, bad key; an unknown id is 404")
    func messageInput() async throws {
        let harness = try PipelineHarness().started(roles: "api")
        defer { harness.finish() }
        let config = try await harness.sendConfig("resend", sandbox: "http://127.0.0.1:9")
        let good: [String: Any] = ["sendConfigId": config, "to": "a@example.org", "payload": ["subject": "Hi {{name}}", "text": "x"],
                                   "variables": ["name": "A"]]
        func field(_ body: [String: Any], headers: [String: String] = [:]) async throws -> String? {
            let answer = try await harness.call("POST", "/api/messages", json: body, expect: 422, headers: headers)
            return (answer["error"] as? [String: Any])?["field"] as? String
        }
        var body = good
        body["sendConfigId"] = UUID().uuidString
        #expect(try await field(body) == "sendConfigId")
        body = good
        body["to"] = "not an address"
        #expect(try await field(body) == "to")
        body = good
        body["variables"] = [:]
        #expect(try await field(body) == "variables")
        body = good
        body["payload"] = ["text": "no subject"]
        #expect(try await field(body) == "payload.subject")
        #expect(try await field(good, headers: ["Idempotency-Key": String(repeating: "k", count: 300)]) == "header.Idempotency-Key")
        try await harness.call("GET", "/api/messages/\(UUID().uuidString)", expect: 404)
        // Suppressed: answered, never sent.
        try await harness.call("POST", "/api/suppressions", json: ["address": "a@example.org"])
        let suppressed = try await harness.call("POST", "/api/messages", json: good, expect: 202)
        #expect(suppressed["status"] as? String == "suppressed")
    }
}

extension PipelineTests {
    @Test("A tenant idle for tenant_idle_ms loses its queue's consumer; its next batch makes it again and is sent")
    func idleTenantQueueRemoved() async throws {
        let sandbox = try TestSandbox(config: Self.fairSandboxConfig)
        let harness = try PipelineHarness(pipeline: "tenant_idle_ms = 1000\nrecovery_interval_ms = 1000").started()
        defer { harness.finish() }
        let config = try await harness.sendConfig("resend", sandbox: sandbox.url)
        let first = try await harness.sentBatch(config: config, payload: PipelineTests.emailPayload, csv: PipelineTests.csv(count: 50))
        try await harness.wait(first)
        let userID = try #require(try harness.query("SELECT user_id::text FROM batches WHERE id = $1", [first]).first?[0] ?? nil)
        let jetStream = try JetStream(url: try StackEnvironment.value("NATS_URL"), namespace: harness.namespace)
        let consumer = "sender-\(userID)"
        #expect(try jetStream.backlog(stream: "email-system", consumer: consumer) != nil, "the tenant's consumer exists while it has work")
        // Gone, as JetStream answers it (nil), not as a failed read (a throw, which keeps the tenant).
        try await eventually { try jetStream.backlog(stream: "email-system", consumer: consumer) == nil }
        let second = try await harness.batch(config: config, payload: PipelineTests.emailPayload,
                                             csv: PipelineTests.csv(count: 50, offset: 1_000))
        try await harness.call("POST", "/api/batches/\(second)/send")
        let detail = try await harness.wait(second)
        #expect(PipelineHarness.counts(detail)["sent"] == 50, "the tenant's next batch is sent through a consumer made again")
    }
}
