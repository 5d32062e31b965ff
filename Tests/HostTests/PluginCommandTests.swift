import Foundation
import ProviderModel
import TestSupport
import Testing

/// The `batchsender plugin` verbs, run as a user runs them.
@Suite("batchsender plugin command")
struct PluginCommandTests {
    let config: String
    let messages: String

    init() throws {
        config = try TestPaths.write(#"{"url":"http://127.0.0.1:1/echo","secret":"s3cret"}"#, name: "config.json")
        messages = try TestPaths.write(
            #"[{"id":"m1","channel":"email","to":"a@example.org","subject":"Hi"},{"id":"m2","channel":"sms","to":["+15551234567"],"text":"yo"}]"#,
            name: "messages.json")
    }

    func cli(_ arguments: String...) async throws -> TestEnvironment.RunResult {
        try await TestEnvironment.run(TestPaths.cli, arguments)
    }

    func json(_ text: String) -> Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8)) }

    @Test("info prints the descriptor of each plugin, several loaded in one process")
    func info() async throws {
        let both = try await cli("plugin", "info", TestEnvironment.swiftEcho, TestEnvironment.cEcho)
        #expect(both.status == 0)
        let ids = (json(both.stdout) as? [[String: Any]])?.compactMap { $0["id"] as? String }
        #expect(ids == ["echo", "echo-c"])
        let one = try await cli("plugin", "info", TestEnvironment.cEcho)
        #expect((json(one.stdout) as? [String: Any])?["max_batch"] as? Int == 100)
    }

    @Test("prepare, interpret, verify and parse answer in JSON")
    func verbs() async throws {
        let prepared = try await cli("plugin", "prepare", TestEnvironment.cEcho, "--config", config, "--messages", messages, "--now", "1700000000")
        #expect(prepared.status == 0, "\(prepared.stderr)")
        let requests = (json(prepared.stdout) as? [String: Any])?["requests"] as? [[String: Any]]
        #expect(requests?.first?["method"] as? String == "POST")
        #expect((requests?.first?["headers"] as? [String: String])?["x-echo-timestamp"] == "1700000000")

        let body = try TestPaths.write("", name: "empty")
        let headers = try TestPaths.write(#"{"Retry-After":"9"}"#, name: "headers.json")
        let interpreted = try await cli("plugin", "interpret", TestEnvironment.swiftEcho, "--config", config, "--messages", messages,
                                  "--status", "429", "--headers", headers, "--body", body)
        let outcomes = json(interpreted.stdout) as? [[String: Any]]
        #expect(outcomes?.count == 2)
        #expect(outcomes?.allSatisfy { $0["kind"] as? String == "throttled" && $0["retry_after_ms"] as? Int == 9000 } == true)

        let events = try TestPaths.write("e1 delivered p1 a@example.org 1700000000000", name: "events.txt")
        let parsed = try await cli("plugin", "parse", TestEnvironment.cEcho, "--config", config, "--body", events)
        let first = (json(parsed.stdout) as? [[String: Any]])?.first
        #expect(first?["type"] as? String == "delivered" && first?["provider"] as? String == "echo-c")
        #expect(first?["timestamp"] as? String == "2023-11-14T22:13:20.000Z")
    }

    @Test("verify exits 0 with valid:true, and 1 with the reason")
    func verifyExitCodes() async throws {
        let body = try TestPaths.write("payload", name: "body")
        let signature = try await TestEnvironment.run("/usr/bin/env", [
            "python3", "-c", "import hmac,hashlib; print(hmac.new(b's3cret', b'1700000000.payload', hashlib.sha256).hexdigest())",
        ]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let headers = try TestPaths.write(
            #"{"x-echo-timestamp":"1700000000","x-echo-signature":"v1=\#(signature)"}"#, name: "headers.json")
        for plugin in [TestEnvironment.swiftEcho, TestEnvironment.cEcho] {
            let valid = try await cli("plugin", "verify", plugin, "--config", config, "--headers", headers, "--body", body, "--now", "1700000010")
            #expect(valid.status == 0)
            #expect((json(valid.stdout) as? [String: Any])?["valid"] as? Bool == true)
            let stale = try await cli("plugin", "verify", plugin, "--config", config, "--headers", headers, "--body", body, "--now", "1700009999")
            #expect(stale.status == 1)
            let answer = json(stale.stdout) as? [String: Any]
            #expect(answer?["valid"] as? Bool == false)
            #expect((answer?["reason"] as? String)?.contains("tolerance") == true)
        }
    }

    @Test("bad input exits 2 with one line that names the problem", arguments: [
        (["plugin", "info", "/nonexistent/plugin.so"], "no file at this path"),
        (["plugin", "info", "@CONFIG@"], "shared object"),
        (["plugin", "prepare", "@SWIFT@", "--config", "@CONFIG@", "--messages", "/nonexistent.json"], "--messages /nonexistent.json: no such file"),
        (["plugin", "prepare", "@SWIFT@", "--config", "@BADJSON@", "--messages", "@MESSAGES@"], "not valid JSON"),
        (["plugin", "prepare", "@SWIFT@", "--config", "@BADCONFIG@", "--messages", "@MESSAGES@"], "config.secret"),
        (["plugin", "prepare", "@C@", "--config", "@CONFIG@", "--messages", "@BADMESSAGES@"], "messages[0].channel"),
        (["plugin", "prepare", "@C@", "--config", "@CONFIG@"], "--messages"),
        (["plugin", "interpret", "@C@", "--config", "@CONFIG@", "--messages", "@MESSAGES@", "--status", "999", "--body", "@CONFIG@"], "--status"),
        (["plugin", "verify", "@C@", "--config", "@CONFIG@", "--headers", "@MESSAGES@", "--body", "@CONFIG@"], "JSON object"),
        (["plugin", "parse", "@C@", "--config", "@CONFIG@", "--body", "/nonexistent"], "--body /nonexistent: no such file"),
        (["plugin", "send", "@C@", "--config", "@CONFIG@", "--messages", "@EMPTY@"], "the array is empty"),
        (["plugin", "frobnicate"], "frobnicate"),
    ])
    func badInput(arguments: [String], expected: String) async throws {
        let substitutions = [
            "@CONFIG@": config, "@MESSAGES@": messages, "@SWIFT@": TestEnvironment.swiftEcho, "@C@": TestEnvironment.cEcho,
            "@BADJSON@": try TestPaths.write("{nope", name: "bad.json"),
            "@BADCONFIG@": try TestPaths.write(#"{"url":"http://x"}"#, name: "badconfig.json"),
            "@BADMESSAGES@": try TestPaths.write(#"[{"id":"x","channel":"pigeon"}]"#, name: "badmessages.json"),
            "@EMPTY@": try TestPaths.write("[]", name: "empty.json"),
        ]
        let result = try await TestEnvironment.run(TestPaths.cli, arguments.map { substitutions[$0] ?? $0 })
        #expect(result.status == 2, "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains(expected), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test("send prepares, sends over HTTP and interprets: accepted and retryable outcomes")
    func send() async throws {
        let server = try TestHTTPServer()
        let messages = try TestPaths.write(
            #"[{"id":"m1","channel":"email","to":"a@example.org"},{"id":"m2","channel":"email","to":[]}]"#, name: "send.json")
        for (path, kind) in [("/echo", "accepted"), ("/status/503", "retryable")] {
            let config = try TestPaths.write(#"{"url":"\#(server.url(path))","secret":"k"}"#, name: "send-config.json")
            for plugin in [TestEnvironment.swiftEcho, TestEnvironment.cEcho] {
                let result = try await cli("plugin", "send", plugin, "--config", config, "--messages", messages)
                #expect(result.status == 0, "\(result.stderr)")
                let outcomes = json(result.stdout) as? [[String: Any]]
                #expect(outcomes?.map { $0["kind"] as? String } == [kind, "permanent"])
                if kind == "accepted" { #expect(outcomes?.first?["provider_message_id"] as? String == "echo-m1") }
            }
        }
    }
}
