import Foundation
import HostCore
import ProviderModel
import TestSupport
import Testing

/// `batchsender sandbox` as a process, for one test: killed when released.
final class TestSandbox {
    let server: ServerProcess
    let port: Int

    /// `port`: one chosen ahead (a send-config made before the sandbox starts names it).
    /// `seed`: another than the usual 11 makes other message and event ids (JetStream remembers a stored
    /// webhook's ids for 20 minutes, across test runs).
    init(config: String? = nil, webhookTarget: String? = nil, webhookURLs: [String] = [], port: Int? = nil, seed: UInt64 = 11) throws {
        self.port = try port ?? LoopbackPort.free()
        var arguments = ["sandbox", "--port", String(self.port), "--seed", String(seed), "--log-level", "warning"]
        if let config { arguments += ["--config", try TestPaths.write(config, name: "sandbox.toml")] }
        if let webhookTarget { arguments += ["--webhook-target", webhookTarget] }
        for url in webhookURLs { arguments += ["--webhook-url", url] }
        server = try ServerProcess(executable: TestPaths.cli, arguments: arguments)
    }

    var url: String { "http://127.0.0.1:\(port)" }

    func stats() async throws -> [String: Any] { try await get("/sandbox/stats") }

    /// Messages of `provider` the sandbox accepted so far.
    func accepted(_ provider: String = "resend") async throws -> Int {
        (try await stats()[provider] as? [String: Any])?["messages_accepted"] as? Int ?? 0
    }

    /// The fate the sandbox drew for each message of `provider` that has webhooks, by message id.
    func fates(_ provider: String) async throws -> [String: String] {
        try await get("/sandbox/fates?provider=\(provider)")["fates"] as? [String: String] ?? [:]
    }

    func get(_ path: String) async throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(await LoopbackHTTP.get(url + path).body)) as? [String: Any] ?? [:]
    }

    /// Takes `provider` down for `seconds` (0 brings it back): its send endpoints answer 503 until then; `accepting`:
    /// after taking each request's messages (answers lost after the provider took them).
    func outage(_ provider: String, seconds: Double, accepting: Bool = false) async throws {
        let result = await CurlHTTPClient().execute(PreparedRequest(method: "POST", url: url + "/sandbox/outage?provider=\(provider)&seconds=\(seconds)&accepting=\(accepting)",
                                                                    headers: [], body: [], messageIndices: []), timeoutMs: 10_000)
        guard result.status == 200 else { throw TestSupportError("outage: HTTP \(result.status) \(String(decoding: result.body, as: UTF8.self))") }
    }
}

@Suite("Provider sandbox")
struct SandboxTests {
    func plugin(_ name: String) -> String {
        TestPaths.binDirectory.appendingPathComponent("lib\(name)Provider.so").path
    }

    /// `plugin send` of `messages` with `config`; the outcomes' kinds, provider ids and codes.
    func send(_ plugin: String, config: String, messages: String) async throws -> [[String: Any]] {
        let configPath = try TestPaths.write(config, name: "config.json")
        let messagesPath = try TestPaths.write(messages, name: "messages.json")
        let result = try await TestEnvironment.run(TestPaths.cli, ["plugin", "send", plugin, "--config", configPath, "--messages", messagesPath])
        guard result.status == 0, let data = result.stdout.data(using: .utf8),
              let outcomes = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw TestSupportError("plugin send failed (\(result.status)): \(result.stdout) \(result.stderr)")
        }
        return outcomes
    }

    static let emails = #"""
        [{"id":"m1","channel":"email","from":"Sender <from@example.com>","to":["a@example.org"],"subject":"hi","text":"one"},
         {"id":"m2","channel":"email","from":"from@example.com","to":["b@example.org"],"subject":"hi","html":"<p>two</p>"}]
        """#
    static let sms = #"[{"id":"s1","channel":"sms","from":"+13125550100","to":"+13125550111","text":"hello"}]"#
    static let sesConfig = #"{"access_key_id":"AKIDEXAMPLE","secret_access_key":"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY","region":"us-east-1","base_url":"@URL@"}"#
    static let telnyxConfig = #"{"api_key":"KEY123","public_key":"A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=","base_url":"@URL@"}"#
    static let webhooks = #"[{"id":"w1","channel":"webhook","payload":{"order":1}}]"#
    static let receiverSecret = "whsec_YmF0Y2hzZW5kZXItc2FuZGJveC1yZWNlaXZlci1rZXk="

    func configs(_ sandbox: TestSandbox) -> [(plugin: String, config: String, messages: String)] {
        [("Resend", #"{"api_key":"re_test","base_url":"\#(sandbox.url)"}"#, Self.emails),
         ("SES", Self.sesConfig.replacingOccurrences(of: "@URL@", with: sandbox.url), Self.emails),
         ("Telnyx", Self.telnyxConfig.replacingOccurrences(of: "@URL@", with: sandbox.url), Self.sms),
         ("CustomWebhook", #"{"url":"\#(sandbox.url)/receiver/orders","secret":"\#(Self.receiverSecret)"}"#, Self.webhooks)]
    }

    @Test("the providers' official Python clients work against it, and svix, PyNaCl and cryptography verify its webhooks")
    func officialClients() async throws {
        guard let python = ProcessInfo.processInfo.environment["BATCHSENDER_PYTHON"] else {
            throw TestSupportError("BATCHSENDER_PYTHON is not set: run scripts/test, which makes a venv with Tests/Vectors/requirements.txt")
        }
        let script = TestPaths.packageRoot.appendingPathComponent("Tests/Sandbox/official_clients.py").path
        let result = try await TestEnvironment.run(python, [script, TestPaths.cli])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains(#"{"failures": []}"#), "\(result.stdout)")
    }

    @Test("each plugin's plugin send is accepted with provider message ids")
    func pluginsAccepted() async throws {
        let sandbox = try TestSandbox()
        for (name, config, messages) in configs(sandbox) {
            let outcomes = try await send(plugin(name), config: config, messages: messages)
            #expect(!outcomes.isEmpty)
            for outcome in outcomes {
                #expect(outcome["kind"] as? String == "accepted", "\(name): \(outcome)")
                #expect((outcome["provider_message_id"] as? String)?.isEmpty == false, "\(name): \(outcome)")
            }
        }
        let stats = try await sandbox.stats()
        for provider in ["resend", "ses", "telnyx"] {
            #expect((stats[provider] as? [String: Any])?["messages_accepted"] as? Int == (provider == "telnyx" ? 1 : 2), "\(provider): \(stats)")
        }
        #expect((stats["receiver"] as? [String: Any])?["messages_accepted"] as? Int == 1)
    }

    @Test("injected 429s come back throttled, 5xx and dropped connections retryable", arguments: ["rate_limited", "server_error", "dropped"])
    func faultsRetryable(fault: String) async throws {
        let sandbox = try TestSandbox(config: """
            [faults.resend]
            \(fault) = 1.0
            [faults.ses]
            \(fault) = 1.0
            [faults.telnyx]
            \(fault) = 1.0
            """)
        for (name, config, messages) in configs(sandbox) where name != "CustomWebhook" {
            for outcome in try await send(plugin(name), config: config, messages: messages) {
                #expect(outcome["kind"] as? String == (fault == "rate_limited" ? "throttled" : "retryable"), "\(name) under \(fault): \(outcome)")
            }
        }
    }

    @Test("the receiver's configured 410 and 503 come back permanent and retryable")
    func receiverAnswers() async throws {
        let sandbox = try TestSandbox(config: """
            [receivers.gone]
            responses = { "410" = 1 }
            [receivers.down]
            secret = "whsec_c2Vjb25kLXJlY2VpdmVyLXNlY3JldC1rZXktMzI="
            responses = { "503" = 1 }
            """)
        let gone = try await send(plugin("CustomWebhook"), config: #"{"url":"\#(sandbox.url)/receiver/gone","secret":"\#(Self.receiverSecret)"}"#, messages: Self.webhooks)
        #expect(gone.first?["kind"] as? String == "permanent", "\(gone)")
        let down = try await send(plugin("CustomWebhook"), config: #"{"url":"\#(sandbox.url)/receiver/down","secret":"whsec_c2Vjb25kLXJlY2VpdmVyLXNlY3JldC1rZXktMzI="}"#, messages: Self.webhooks)
        #expect(down.first?["kind"] as? String == "retryable", "\(down)")
        let forged = try await send(plugin("CustomWebhook"), config: #"{"url":"\#(sandbox.url)/receiver/down","secret":"\#(Self.receiverSecret)"}"#, messages: Self.webhooks)
        #expect(forged.first?["kind"] as? String == "permanent", "a wrong secret is a 401: \(forged)")
        #expect(((try await sandbox.stats())["receiver"] as? [String: Any])?["signature_failures"] as? Int == 1)
    }

    @Test("the providers' refusals come back permanent with their codes")
    func permanentRefusals() async throws {
        let sandbox = try TestSandbox()
        let badEmail = #"[{"id":"m1","channel":"email","from":"from@example.com","to":["rejected@example.org"],"subject":"hi","text":"x"}]"#
        let ses = try await send(plugin("SES"), config: Self.sesConfig.replacingOccurrences(of: "@URL@", with: sandbox.url), messages: badEmail)
        #expect(ses.first?["kind"] as? String == "permanent" && ses.first?["code"] as? String == "MessageRejected", "\(ses)")
        let wrongSecret = Self.sesConfig.replacingOccurrences(of: "@URL@", with: sandbox.url).replacingOccurrences(of: "EXAMPLEKEY", with: "WRONGKEY")
        let refused = try await send(plugin("SES"), config: wrongSecret, messages: Self.emails)
        #expect(refused.allSatisfy { $0["kind"] as? String == "permanent" && $0["code"] as? String == "SignatureDoesNotMatch" }, "\(refused)")
        let badNumber = #"[{"id":"s1","channel":"sms","from":"+13125550100","to":"+0123","text":"hello"}]"#
        let telnyx = try await send(plugin("Telnyx"), config: Self.telnyxConfig.replacingOccurrences(of: "@URL@", with: sandbox.url), messages: badNumber)
        #expect(telnyx.first?["kind"] as? String != "accepted", "\(telnyx)")
    }

    @Test("under one seed, the same requests in the same order get the same ids")
    func seeded() async throws {
        var runs: [[String]] = []
        for _ in 0..<2 {
            let sandbox = try TestSandbox()
            let outcomes = try await send(plugin("Resend"), config: #"{"api_key":"re_test","base_url":"\#(sandbox.url)"}"#, messages: Self.emails)
            runs.append(outcomes.compactMap { $0["provider_message_id"] as? String })
        }
        #expect(runs[0].count == 2 && runs[0] == runs[1], "\(runs)")
    }

    @Test("a bad config is refused at start-up, naming the key")
    func badConfig() async throws {
        let path = try TestPaths.write("[faults.ses]\nserver_error = 1.5\n", name: "bad.toml")
        let result = try await TestEnvironment.run(TestPaths.cli, ["sandbox", "--port", "1", "--config", path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("faults.ses.server_error") && result.stderr.contains("between 0 and 1"), "\(result.stderr)")
        let unknown = try TestPaths.write("[resend]\nrate_limit = 3\n", name: "bad.toml")
        let refused = try await TestEnvironment.run(TestPaths.cli, ["sandbox", "--config", unknown])
        #expect(refused.status == 2 && refused.stderr.contains("rate_limit"), "\(refused.stderr)")
    }

    @Test("webhooks a receiver does not acknowledge are retried on the provider's schedule, then given up")
    func webhookRetries() async throws {
        let server = try TestHTTPServer()
        let sandbox = try TestSandbox(config: """
            [webhooks]
            retry_time_scale = 0.00001
            duplicate_rate = 0
            open_rate = 0
            latency_ms = [1, 5]
            """, webhookTarget: server.url("/status/503"))
        let email = #"[{"id":"m1","channel":"email","from":"from@example.com","to":["delivered@example.org"],"subject":"hi","text":"x"}]"#
        _ = try await send(plugin("Resend"), config: #"{"api_key":"re_test","base_url":"\#(sandbox.url)"}"#, messages: email)
        _ = try await send(plugin("Telnyx"), config: Self.telnyxConfig.replacingOccurrences(of: "@URL@", with: sandbox.url),
                     messages: #"[{"id":"s1","channel":"sms","from":"+13125550100","to":"+13125550111","text":"hello"}]"#)
        // A deadline, not a measure: the schedule takes about a second scaled, longer on a machine busy with other suites.
        let stats = try await eventuallyValue("every webhook given up", timeout: .seconds(90), interval: .milliseconds(50)) { () -> [String: Any]? in
            let stats = try await sandbox.stats()
            // Given up: both providers' two events each, whatever else the sandbox still has in hand.
            func failed(_ provider: String) -> Int { (stats[provider] as? [String: Any])?["webhooks_failed"] as? Int ?? 0 }
            return failed("resend") >= 2 && failed("telnyx") >= 2 ? stats : nil
        }
        // Two events each (sent, delivered): Svix makes 8 attempts, Telnyx 3.
        let resend = stats["resend"] as? [String: Any] ?? [:], telnyx = stats["telnyx"] as? [String: Any] ?? [:]
        #expect(resend["webhooks_sent"] as? Int == 16 && resend["webhooks_retried"] as? Int == 14 && resend["webhooks_failed"] as? Int == 2, "\(resend)")
        #expect(telnyx["webhooks_sent"] as? Int == 6 && telnyx["webhooks_retried"] as? Int == 4 && telnyx["webhooks_failed"] as? Int == 2, "\(telnyx)")
        #expect(resend["webhooks_acknowledged"] as? Int == 0)
    }

    @Test("held webhooks wait in the sandbox until the hold ends, then all leave; a reset ends a hold; a bad hold is refused")
    func webhookHold() async throws {
        let server = try TestHTTPServer()
        let sandbox = try TestSandbox(config: """
            [webhooks]
            duplicate_rate = 0
            open_rate = 0
            latency_ms = [1, 5]
            """, webhookTarget: server.url("/status/200"))
        for bad in ["", "x", "-1", "3601", "nan"] {
            let refused = await LoopbackHTTP.send("POST", sandbox.url + "/sandbox/webhooks/hold?seconds=\(bad)")
            #expect(refused.status == 400 && LoopbackHTTP.text(refused).contains("seconds"), "\(bad): \(refused.status)")
        }
        func hold(_ seconds: Int) async { #expect(await LoopbackHTTP.send("POST", sandbox.url + "/sandbox/webhooks/hold?seconds=\(seconds)").status == 200) }
        func sendEmail() async throws {
            _ = try await send(plugin("Resend"), config: #"{"api_key":"re_test","base_url":"\#(sandbox.url)"}"#,
                         messages: #"[{"id":"m1","channel":"email","from":"from@example.com","to":["delivered@example.org"],"subject":"hi","text":"x"}]"#)
        }
        func resend() async throws -> [String: Any] { try await sandbox.stats()["resend"] as? [String: Any] ?? [:] }
        await hold(600)
        try await sendEmail()
        // Both events (sent, delivered) fall due within milliseconds; held, none leaves.
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await resend()["webhooks_sent"] as? Int == 0)
        #expect(try await sandbox.stats()["webhooks_pending"] as? Int == 2)
        await hold(0)
        _ = try await eventuallyValue("the held webhooks acknowledged", timeout: .seconds(30), interval: .milliseconds(50)) { () -> Int? in
            let acknowledged = try await resend()["webhooks_acknowledged"] as? Int ?? 0
            return acknowledged >= 2 ? acknowledged : nil
        }
        await hold(600)
        #expect(await LoopbackHTTP.send("POST", sandbox.url + "/sandbox/reset").status == 200)
        try await sendEmail()
        _ = try await eventuallyValue("webhooks sent after a reset", timeout: .seconds(30), interval: .milliseconds(50)) { () -> Int? in
            let sent = try await resend()["webhooks_sent"] as? Int ?? 0
            return sent >= 2 ? sent : nil
        }
    }

    @Test("a slow answer still arrives; a lost response is retryable though the provider kept the message")
    func slowAndLost() async throws {
        let sandbox = try TestSandbox(config: """
            [faults.resend]
            slow = 1.0
            slow_ms = 400
            [faults.ses]
            lost_response = 1.0
            """)
        let started = ContinuousClock.now
        let slow = try await send(plugin("Resend"), config: #"{"api_key":"re_test","base_url":"\#(sandbox.url)"}"#, messages: Self.emails)
        #expect(ContinuousClock.now - started >= .milliseconds(400))
        #expect(slow.allSatisfy { $0["kind"] as? String == "accepted" }, "\(slow)")
        let lost = try await send(plugin("SES"), config: Self.sesConfig.replacingOccurrences(of: "@URL@", with: sandbox.url), messages: Self.emails)
        #expect(lost.allSatisfy { $0["kind"] as? String == "retryable" }, "\(lost)")
        let ses = try await sandbox.stats()["ses"] as? [String: Any] ?? [:]
        #expect(ses["messages_accepted"] as? Int == 2 && ses["faults_injected"] as? Int == ses["requests"] as? Int, "\(ses)")
    }

    @Test("a recipient given the same email again under another key is a duplicate delivery; another recipient, other content or a replay of the key is not")
    func duplicateDeliveries() async throws {
        let sandbox = try TestSandbox()
        /// `path` with `body` under the idempotency key `key` (Resend's and Telnyx's test keys both work for the one provider each).
        func post(_ path: String, _ body: String, key: String) async {
            let apiKey = path.hasPrefix("/v2/") ? "KEY123" : "re_test"
            let headers = [KeyValue("authorization", "Bearer \(apiKey)"), KeyValue("user-agent", "sandbox-tests"),
                           KeyValue("content-type", "application/json"), KeyValue("idempotency-key", key)]
            let answer = await LoopbackHTTP.send("POST", sandbox.url + path, headers: headers, body: Array(body.utf8))
            #expect(answer.status == 200, "\(path) under \(key): \(LoopbackHTTP.text(answer))")
        }
        func email(_ to: String, text: String = "same words") -> String {
            #"{"from":"from@example.com","to":"\#(to)","subject":"hi","text":"\#(text)"}"#
        }
        func resend() async throws -> [String: Int] {
            (try await sandbox.stats()["resend"] as? [String: Any] ?? [:]).compactMapValues { $0 as? Int }
        }

        await post("/emails", email("ada@example.org"), key: "first")
        await post("/emails", email("ada@example.org"), key: "first")
        var stats = try await resend()
        #expect(stats["idempotent_replays"] == 1 && stats["duplicate_deliveries"] == 0, "a replay delivers nothing: \(stats)")
        await post("/emails", email("grace@example.org"), key: "second")
        await post("/emails", email("ada@example.org", text: "other words"), key: "third")
        stats = try await resend()
        #expect(stats["messages_accepted"] == 3 && stats["duplicate_deliveries"] == 0, "another recipient, other content: \(stats)")
        await post("/emails", email("Ada@Example.org"), key: "fourth")
        stats = try await resend()
        #expect(stats["duplicate_deliveries"] == 1 && stats["duplicate_sends"] == 0, "the same email again under a new key: \(stats)")

        // A batch retried as another group (one email more, so another key): each email already given counts.
        let group = [email("lin@example.org"), email("kim@example.org")]
        await post("/emails/batch", "[" + group.joined(separator: ",") + "]", key: "group-1")
        await post("/emails/batch", "[" + (group + [email("sam@example.org")]).joined(separator: ",") + "]", key: "group-2")
        stats = try await resend()
        #expect(stats["messages_accepted"] == 9 && stats["duplicate_deliveries"] == 3 && stats["duplicate_sends"] == 0, "\(stats)")

        // An SMS: the same text to the same number under two keys.
        let sms = #"{"from":"+13125550100","to":"+13125550111","text":"hello"}"#
        await post("/v2/messages", sms, key: "sms-1")
        await post("/v2/messages", sms, key: "sms-2")
        let telnyx = try await sandbox.stats()["telnyx"] as? [String: Any] ?? [:]
        #expect(telnyx["messages_accepted"] as? Int == 2 && telnyx["duplicate_deliveries"] as? Int == 1, "\(telnyx)")
    }
}
