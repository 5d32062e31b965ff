import Foundation
@testable import HostCore
import ProviderModel
import TestSupport
import Testing

@Suite("HTTP client (libcurl multi)")
struct CurlHTTPClientTests {
    static func post(_ url: String, body: String = "", headers: [KeyValue] = []) -> PreparedRequest {
        PreparedRequest(method: "POST", url: url, headers: headers, body: Array(body.utf8), messageIndices: [0])
    }

    @Test("a request arrives with its method, headers and exact body; the response comes back whole")
    func roundTrip() async throws {
        let server = try TestHTTPServer()
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        let body = "{\"text\":\"héllo\"}"
        let result = await client.execute(Self.post(server.url("/echo"), body: body, headers: [KeyValue("X-Trace", "abc")]))
        #expect(result.transportFailure == nil && result.status == 200)
        #expect(result.headers.first(named: "content-type") == "application/json")
        let echoed = try JSONSerialization.jsonObject(with: Data(result.body)) as? [String: Any]
        #expect(echoed?["method"] as? String == "POST")
        #expect(echoed?["body"] as? String == body)
        #expect((echoed?["headers"] as? [String: String])?["x-trace"] == "abc")
        #expect((echoed?["headers"] as? [String: String])?["expect"] == nil)
    }

    @Test("sequential requests to one host reuse one connection")
    func connectionReuse() async throws {
        let server = try TestHTTPServer()
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        for _ in 0..<20 {
            let result = await client.execute(Self.post(server.url("/echo"), body: "x"))
            #expect(result.status == 200)
        }
        #expect(client.connectionsOpened == 1)
    }

    /// The client's thread waits in `curl_multi_poll` with nothing to do; a send that did not wake it would
    /// start only when that wait ends. Here the wait is two minutes: sends one at a time, and bursts of eight,
    /// each answered within 30 s, where a lost wakeup would take the two minutes.
    @Test("a request sent to an idle client starts at once, alone or in a burst, not at the thread's next poll",
          .timeLimit(.minutes(3)))
    func sendWakesTheClient() async throws {
        let server = try TestHTTPServer()
        let client = CurlHTTPClient(settings: HTTPClientSettings(), policy: nil, idleWaitMs: 120_000)
        defer { client.shutdown() }
        let url = server.url("/echo")
        for round in 0..<4 {
            try await Task.sleep(for: .milliseconds(50))  // the thread is back in its wait
            let started = ContinuousClock.now
            let statuses = await withTaskGroup(of: Int.self) { group in
                for _ in 0..<(round.isMultiple(of: 2) ? 1 : 8) {
                    group.addTask { await client.execute(Self.post(url, body: "x")).status }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            let took = ContinuousClock.now - started
            #expect(statuses.allSatisfy { $0 == 200 }, "round \(round): \(statuses)")
            // A time limit cannot stop a send that waits (execute ignores cancellation): stop at the first round.
            try #require(took < .seconds(30), "round \(round) took \(took): the send waited for the thread's poll")
        }
    }

    @Test("many concurrent requests all complete, each with its own response")
    func concurrency() async throws {
        let server = try TestHTTPServer()
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        let url = server.url("/echo")
        let bodies = await withTaskGroup(of: (Int, String).self) { group in
            for index in 0..<64 {
                group.addTask {
                    let result = await client.execute(Self.post(url, body: "n\(index)"))
                    let echoed = try? JSONSerialization.jsonObject(with: Data(result.body)) as? [String: Any]
                    return (index, echoed?["body"] as? String ?? "")
                }
            }
            var bodies: [Int: String] = [:]
            for await (index, body) in group { bodies[index] = body }
            return bodies
        }
        #expect(bodies.count == 64)
        #expect(bodies.allSatisfy { $0.value == "n\($0.key)" })
    }

    @Test("transport failures are classified: timeout, refused connection, dropped connection")
    func transportFailures() async throws {
        let server = try TestHTTPServer()
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        let slow = await client.execute(Self.post(server.url("/slow/2000")), timeoutMs: 200)
        #expect(slow.transportFailure == .timeout)
        // Port 1 on loopback: nothing listens there.
        let refused = await client.execute(Self.post("http://127.0.0.1:1/"))
        #expect(refused.transportFailure == .connect && !refused.transportMessage.isEmpty)
        let dropped = await client.execute(Self.post(server.url("/drop")))
        #expect(dropped.transportFailure == .io)
        let status = await client.execute(Self.post(server.url("/status/429")))
        #expect(status.status == 429 && status.headers.first(named: "retry-after") == "3")
    }

    /// The proxy variables live only in a child's environment: `setenv` in this process, while other tests
    /// run on other threads (and spawn children), is undefined behaviour in glibc and hands the dead proxy on.
    @Test("proxy variables in the environment are ignored: a send through the host's client goes straight to its target, the proxy sees nothing")
    func environmentProxyIgnored() async throws {
        let server = try TestHTTPServer()
        let proxy = try SilentListener()
        let proxyURL = "http://127.0.0.1:\(proxy.port)"
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.lowercased().hasSuffix("_proxy") }
        for name in ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"] { environment[name] = proxyURL }
        let config = try TestPaths.write(#"{"url":"\#(server.url("/echo"))","secret":"k"}"#, name: "proxy-config.json")
        let messages = try TestPaths.write(#"[{"id":"m1","channel":"email","to":"a@example.org"}]"#, name: "proxy-messages.json")
        // `plugin send` prepares with the plugin and sends with the host's CurlHTTPClient, as the senders do.
        let childEnvironment = environment
        let run = try await onOwnThread {
            try FinishedProcess.run(TestPaths.cli, ["plugin", "send", TestEnvironment.swiftEcho, "--config", config, "--messages", messages,
                                                   "--timeout-ms", "3000"], environment: childEnvironment)
        }
        let stdout = run.stdout
        #expect(run.status == 0, "\(run.stderr)")
        let outcomes = (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [[String: Any]]
        #expect(outcomes?.map { $0["kind"] as? String } == ["accepted"], "\(stdout)")
        #expect(proxy.connections() == 0, "the proxy from the environment was used")
    }

    @Test("after shutdown, requests fail at once instead of hanging")
    func shutdown() async throws {
        let client = CurlHTTPClient()
        client.shutdown()
        let result = await client.execute(Self.post("http://127.0.0.1:1/"))
        #expect(result.transportFailure == .other)
    }
}

/// The outbound policy a tenant's sends and fetches go through: one test per refusal.
@Suite("Outbound policy")
struct OutboundPolicyTests {
    static func get(_ url: String) -> PreparedRequest { PreparedRequest(method: "GET", url: url, headers: [], body: [], messageIndices: [0]) }

    @Test("a loopback or private address is refused after DNS (a name that resolves to one too), unless [outbound] allow names it")
    func privateAddresses() async throws {
        let server = try TestHTTPServer()
        let strict = CurlHTTPClient(policy: OutboundPolicy(allowHTTP: true))
        let allowing = CurlHTTPClient(policy: OutboundPolicy(allow: [IPNetwork("127.0.0.0/8")!, IPNetwork("::1")!], allowHTTP: true))
        defer { strict.shutdown(); allowing.shutdown() }
        for url in [server.url("/echo"), "http://localhost:\(server.port)/echo"] {
            let refused = await strict.execute(Self.get(url))
            #expect(refused.transportFailure == .connect && refused.transportMessage.contains("loopback") == true, "\(url): \(refused)")
            let allowed = await allowing.execute(Self.get(url))
            #expect(allowed.status == 200, "\(url): \(allowed)")
        }
        for address in ["10.1.2.3", "169.254.169.254", "192.168.0.1", "[::ffff:10.0.0.1]", "[fd00::1]", "0.0.0.0"] {
            let refused = await strict.execute(Self.get("http://\(address):9/"))
            #expect(refused.transportFailure == .connect && refused.transportMessage.contains("outbound policy") == true, "\(address): \(refused)")
        }
        #expect(OutboundPolicy().refusal([93, 184, 216, 34]) == nil, "a public address is allowed")
        #expect(OutboundPolicy().refusal([100, 64, 0, 1]) != nil && OutboundPolicy().refusal([172, 31, 255, 255]) != nil)
        #expect(OutboundPolicy().refusal([172, 32, 0, 1]) == nil)
    }

    @Test("plain http is refused unless allow_http is set")
    func plainHTTP() async throws {
        let server = try TestHTTPServer()
        let client = CurlHTTPClient(policy: OutboundPolicy(allow: [IPNetwork("127.0.0.0/8")!]))
        defer { client.shutdown() }
        let refused = await client.execute(Self.get(server.url("/echo")))
        #expect(refused.transportFailure != nil && refused.status == 0, "\(refused)")
    }

    @Test("a redirect is never followed, to a private address or anywhere: the 302 is the answer")
    func redirects() async throws {
        let server = try TestHTTPServer()
        let client = CurlHTTPClient(policy: OutboundPolicy(allow: [IPNetwork("127.0.0.0/8")!], allowHTTP: true))
        defer { client.shutdown() }
        for target in ["http://169.254.169.254/latest/meta-data/", server.url("/echo")] {
            let answer = await client.execute(Self.get(server.url("/redirect?to=\(target)")))
            #expect(answer.status == 302 && answer.headers.first(named: "location") == target, "\(answer)")
        }
    }

    @Test("a response larger than [http] max_response_bytes is cut off and reported, with or without a policy")
    func oversizedBody() async throws {
        let server = try TestHTTPServer()
        for policy in [OutboundPolicy(allow: [IPNetwork("127.0.0.0/8")!], allowHTTP: true), nil] {
            let client = CurlHTTPClient(settings: HTTPClientSettings(maxResponseBytes: 100_000), policy: policy)
            defer { client.shutdown() }
            let small = await client.execute(Self.get(server.url("/big/99000")))
            #expect(small.status == 200 && small.body.count == 99_000)
            let big = await client.execute(Self.get(server.url("/big/5000000")))
            #expect(big.transportFailure == .io && big.transportMessage.contains("larger than 100000 bytes") == true, "\(big)")
        }
    }

    @Test("[outbound] in the host config: networks checked, unknown keys refused")
    func config() throws {
        let config = try HostConfig.parse("[outbound]\nallow = [\"127.0.0.0/8\", \"fd00::/8\"]\nallow_http = true\n")
        #expect(config.outbound.allowHTTP && config.outbound.allow.map(\.description) == ["127.0.0.0/8", "fd00::/8"])
        #expect(try HostConfig.parse("").outbound == OutboundPolicy())
        #expect(throws: HostConfigError.self) { try HostConfig.parse("[outbound]\nallow = [\"127.0.0.0/33\"]\n") }
        #expect(throws: HostConfigError.self) { try HostConfig.parse("[outbound]\nallow_private = true\n") }
    }
}

/// A socket that listens on loopback and never answers: it only counts who connected.
final class SilentListener {
    let descriptor: Int32
    let port: Int

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.descriptor = descriptor
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(descriptor, raw, length) == 0 && listen(descriptor, 16) == 0 && getsockname(descriptor, raw, &length) == 0
            }
        }
        guard descriptor >= 0, bound else {
            close(descriptor)
            throw TestSupportError("no loopback socket to listen on: errno \(errno)")
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
    }

    /// How many connections are waiting to be accepted (each is accepted and closed).
    func connections() -> Int {
        var count = 0
        while true {
            let client = accept(descriptor, nil, nil)
            guard client >= 0 else { return count }
            close(client)
            count += 1
        }
    }

    deinit { close(descriptor) }
}
