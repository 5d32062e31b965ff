import App
import Analytics
import ArgumentParser
import Dispatch
import Domain
import Foundation
import HostCore
import Messaging
import Persistence
import ProviderCrypto
import ProviderInstances
import ProviderModel
import SenderAPI
import Synchronization
import Templating

/// `batchsender bench webhooks`: wrk drives pre-signed provider webhooks at the receiver; prints
/// verified-and-stored webhooks/s with wrk's p99, then the webhook processor's applied events/s
/// and the p99 from storing a webhook to applying its event (both read from the events it wrote).
struct WebhookBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks",
        abstract: "Drive signed webhooks at the receiver with wrk; print stored webhooks/s and applied events/s, each with its p99.",
        discussion: "Needs the local stack (scripts/stack up), its environment (.env.dev) and wrk. Build with -c release for figures worth quoting.")

    @Option(help: "resend (Svix, HMAC-SHA256), ses (SNS, SHA256withRSA, its certificate fetched once) or telnyx (Ed25519).")
    var provider: String = "resend"
    @Option(help: "Seconds wrk drives the receiver.") var seconds: Int = 10
    @Option(help: "Distinct signed webhooks (each for its own recipient); wrk cycles through them. Default 400,000; 200,000 for ses, whose RSA signing takes the longest.")
    var webhooks: Int?
    @Option(help: "wrk connections.") var connections: Int = 64
    @Option(help: "The receiver's port for this run.") var receiverPort: Int = 6092
    @Option(help: "The API's port for this run.") var apiPort: Int = 6093
    @Option(help: "The port of the run's own NATS server (JetStream in a scratch folder): no other run's webhooks wait in its stream. 0: the stack's (NATS_URL).")
    var natsPort: Int = 6094
    @Flag(help: "Start the webhook processor only after wrk is done: the receiver's rate alone, then the processor's.")
    var apart = false
    @Option(help: "Webhooks a second at most: each connection waits connections/rate ms after an answer before its next request (the rate reached, printed, is lower by the answers' own time); 0: as fast as the receiver answers. With the processor running, its p99 from stored to applied is the figure of a steady load.")
    var rate: Int = 0
    @Option(help: "The processor's lanes (the config's processor_lanes); its default when not given.")
    var processorLanes: Int?

    func run() async throws {
        guard ["resend", "ses", "telnyx"].contains(provider) else { throw ValidationError("--provider must be resend, ses or telnyx") }
        let webhooks = self.webhooks ?? (provider == "ses" ? 200_000 : 400_000)
        guard (1...2_000_000).contains(webhooks), (1...600).contains(seconds), (1...10_000).contains(connections),
              (0...65_535).contains(natsPort), (0...1_000_000).contains(rate), (1...16).contains(processorLanes ?? 1) else {
            throw ValidationError("--webhooks 1…2,000,000, --seconds 1…600, --connections 1…10,000, --nats-port 0…65,535, --rate 0…1,000,000, --processor-lanes 1…16")
        }
        // Each connection waits connections/rate (whole milliseconds) after an answer before its next request, so
        // the rate reached is below the one asked by the answers' own time: the receiver line prints what it was.
        let pauseMs = rate > 0 ? (connections * 1_000 + rate - 1) / rate : 0
        let environment: HostEnvironment
        do { environment = try HostEnvironment(ProcessInfo.processInfo.environment) } catch { throw CommandFailure(error.description) }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("batchsender-bench-webhooks-\(getpid())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let scratch = try ScratchDeployment(environment: environment)
        defer { scratch.drop() }
        var childEnvironment = ProcessInfo.processInfo.environment
        childEnvironment["DATABASE_URL"] = scratch.databaseURL
        var natsServer: ChildProcess?
        var natsURL = environment.natsURL
        if natsPort != 0 {
            guard let executable = ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"]
                .first(where: FileManager.default.isExecutableFile(atPath:)) else { throw CommandFailure("nats-server is not installed (scripts/install-deps)") }
            natsServer = try ChildProcess(name: "nats-server", executable: executable,
                                          arguments: ["-a", "127.0.0.1", "-p", String(natsPort), "-js", "-sd", work + "/nats"],
                                          logPath: work + "/nats.log", readyText: "Server is ready")
            natsURL = "nats://127.0.0.1:\(natsPort)"
        }
        defer { natsServer?.stop() }
        let nats = natsServer ?? ChildProcess.stackServers().first { $0.group == "nats" }?.processes.first
        childEnvironment["NATS_URL"] = natsURL
        // SES: SNS signs with a key whose certificate the receiver fetches (once) from SigningCertURL; here that
        // certificate is served on loopback, which the config trusts through a test-only option.
        let snsKey = provider == "ses" ? RSAPrivateKey.generate() : nil
        var certificateServer: DocumentServer?
        if provider == "ses" {
            guard let pem = snsKey?.selfSignedCertificatePEM(commonName: "sns.us-east-1.amazonaws.com (bench)", validDays: 1) else {
                throw CommandFailure("libcrypto could not make an RSA key and certificate")
            }
            certificateServer = try await DocumentServer.start(path: "/sns/bench.pem", document: pem)
        }
        defer { certificateServer?.stop() }
        let certificateURL = certificateServer.map { "http://127.0.0.1:\($0.port)/sns/bench.pem" } ?? ""
        let plugins = BundledPlugins.paths().map { "[[plugin]]\npath = \"\($0)\"\n" }.joined()
        try (plugins + """
            [api]
            redis_key_prefix = "\(scratch.redisPrefix)"
            allow_test_options = \(provider == "ses")
            [webhooks]
            port = \(receiverPort)
            \(processorLanes.map { "processor_lanes = \($0)" } ?? "")
            public_url = "http://127.0.0.1:\(receiverPort)"
            [fetch]
            allow = ["http://127.0.0.1:*/sns/*"]
            [outbound]
            allow = ["127.0.0.0/8"]
            allow_http = true
            """).write(toFile: work + "/host.toml", atomically: true, encoding: .utf8)
        let host = try ChildProcess(name: "host", executable: executable,
                                    arguments: ["serve", "--roles", apart ? "api,receiver" : "api,receiver,webhook-processor", "--port", String(apiPort),
                                                "--config", work + "/host.toml", "--log-level", "warning"],
                                    environment: childEnvironment, logPath: work + "/host.log", readyText: "api listening")
        defer { host.stop() }
        let key = try E2EBenchCommand.apiKey(executable: executable, environment: childEnvironment)
        let http = CurlHTTPClient()
        defer { http.shutdown() }
        let api = APIClient(base: "http://127.0.0.1:\(apiPort)", key: key, http: http)
        let telnyxKeys = Ed25519.KeyPair(seed: Array(0..<32).map(UInt8.init))!
        let resendSecret = "whsec_" + Encoding.base64(Array("batchsender-bench-webhook-secret".utf8))
        let credentials: JSONValue = switch provider {
        case "resend": .object(["api_key": .string("re_bench_0123456789"), "webhook_secret": .string(resendSecret)])
        case "ses": .object(["access_key_id": .string("AKIDEXAMPLE"), "secret_access_key": .string("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                             "region": .string("us-east-1"), "sns_topic_arns": .array([.string(SNSBenchSigner.topicArn)]),
                             "insecure_test_cert_url_prefix": .string(certificateURL)])
        default: .object(["api_key": .string("KEYbench0123456789"), "public_key": .string(Encoding.base64(telnyxKeys.publicKey))])
        }
        let config = try await api.call("POST", "/api/send-configs", json: .object([
            "name": .string("bench"), "provider": .string(provider), "channel": .string(provider == "telnyx" ? "sms" : "email"),
            "credentials": credentials]))
        guard let configID = config["id"]?.stringValue else { throw CommandFailure("no send-config id in \(config.compactText)") }

        // A sent batch whose every recipient has its own provider message id, written straight to the database.
        Output.line("writing \(webhooks) sent recipients and signing \(webhooks) \(provider) webhooks…")
        let db = try PostgresConnection(url: scratch.databaseURL)
        let batchID = try db.query("""
            INSERT INTO batches (user_id, send_config_id, name, status, payload, recipient_count, sent_count, queued_at, started_at)
            SELECT user_id, id, 'webhook bench', 'completed', '{}', $2, $2, now(), now() FROM send_configs WHERE id = $1 RETURNING id
            """, [configID, String(webhooks)])[0][0]!
        // Inserted waiting, then marked sent with their ids as the sender's write does: the pages hold what a
        // send leaves on them (each row's second version), so the processor's moves find the room a real batch's do.
        _ = try db.query("""
            INSERT INTO recipients (batch_id, position, address) SELECT $1, i, 'bench' || i || '@example.org' FROM generate_series(1, $2) i
            """, [batchID, String(webhooks)])
        _ = try db.query("""
            WITH sent AS (UPDATE recipients SET status = 'sent', provider_message_id = 'bench-' || position, sent_at = now(), attempts = 1
                          WHERE batch_id = $1 RETURNING provider_message_id, batch_id, position)
            INSERT INTO provider_messages (provider_message_id, batch_id, position) SELECT * FROM sent
            """, [batchID])
        // A deployment's tables have statistics and vacuumed pages; freshly bulk-written ones do not until
        // autovacuum runs: the lookup by message id would be planned without statistics, and the first update
        // of each page would also write its hint bits (the processor's first rounds took seconds).
        try db.execute("VACUUM ANALYZE recipients, provider_messages")

        let now = Int64(Date().timeIntervalSince1970)
        let signer = try StandardWebhookSignature(secret: resendSecret, field: "secret")
        let path = "/webhooks/\(provider)/\(configID)"
        let timestamp = ISO8601.extendedUTC(milliseconds: now * 1_000)
        /// Webhook i: its headers and body, signed as the provider signs it.
        let signed: @Sendable (Int) -> (headers: [(String, String)], body: String) = { i in
            switch provider {
            case "resend":
                let body = #"{"type":"email.delivered","created_at":"2026-11-30T10:00:00.000Z","data":{"email_id":"bench-\#(i)","from":"a@example.com","to":["bench\#(i)@example.org"],"subject":"hi","created_at":"2026-11-30T10:00:00.000Z"}}"#
                let id = "msg_bench_\(i)"
                return ([("svix-id", id), ("svix-timestamp", String(now)), ("svix-signature", signer.sign(id: id, timestamp: now, body: Array(body.utf8)))], body)
            case "ses":
                return SNSBenchSigner.notification(i, key: snsKey!, certificateURL: certificateURL, timestamp: timestamp)
            default:
                let body = #"{"data":{"event_type":"message.finalized","id":"ev-\#(i)","occurred_at":"2026-11-30T10:00:00.000+00:00","record_type":"event","payload":{"id":"bench-\#(i)","record_type":"message","to":[{"phone_number":"+1312555\#(i)","status":"delivered"}]}},"meta":{"attempt":1}}"#
                let signature = telnyxKeys.sign(Array("\(now)|".utf8) + Array(body.utf8))
                return ([("telnyx-signature-ed25519", Encoding.base64(signature)), ("telnyx-timestamp", String(now)), ("user-agent", "telnyx-webhooks")], body)
            }
        }
        // RSA signing (SES) takes about half a millisecond a webhook: every core signs a share. Each request is
        // written whole, as wrk sends it, so wrk's threads only split their file at load time.
        let shares = 16, threads = 2
        let pieces = Mutex([String](repeating: "", count: shares))
        DispatchQueue.concurrentPerform(iterations: shares) { share in
            var text = ""
            text.reserveCapacity(webhooks / shares * 1_200)
            for i in stride(from: share + 1, through: webhooks, by: shares) {
                let (headers, body) = signed(i)
                text += "POST \(path) HTTP/1.1\r\nhost: 127.0.0.1:\(receiverPort)\r\ncontent-type: application/json\r\ncontent-length: \(body.utf8.count)\r\n"
                for (name, value) in headers { text += "\(name): \(value)\r\n" }
                text += "\r\n" + body + "\u{0}"
            }
            pieces.withLock { $0[share] = text }
        }
        for thread in 0..<threads {
            let text = pieces.withLock { all in all.indices.filter { $0 % threads == thread }.map { all[$0] }.joined() }
            try text.write(toFile: work + "/requests.\(thread)", atomically: true, encoding: .utf8)
        }
        try Self.script.write(toFile: work + "/requests.lua", atomically: true, encoding: .utf8)

        // wrk loads its threads' requests one thread after another, and the first starts sending before the last is
        // loaded: rates and CPU are read over a window that starts a second after every thread sends, from the stream.
        let stream = try JetStream(url: natsURL)
        let storedAtStart = try stream.lastSequence(stream: Streams.webhooks)
        Output.line("wrk: \(connections) connections\(pauseMs > 0 ? ", each waiting \(pauseMs) ms between requests" : ""), \(seconds) s measured, at http://127.0.0.1:\(receiverPort)\(path.prefix(20))…")
        let wrk = Process()
        wrk.executableURL = URL(fileURLWithPath: "/usr/bin/wrk")
        wrk.arguments = ["-t\(threads)", "-c\(connections)", "-d\(seconds + 2)s", "--latency", "-s", work + "/requests.lua",
                         "http://127.0.0.1:\(receiverPort)", "--", work + "/requests", String(threads), String(pauseMs)]
        let pipe = Pipe()
        wrk.standardOutput = pipe
        try wrk.run()
        var early = ""
        while !early.contains("loaded\n") {
            let data = pipe.fileHandleForReading.availableData
            guard !data.isEmpty else { break }
            early += String(decoding: data, as: UTF8.self)
        }
        try await Task.sleep(for: .seconds(1))
        // CPU per stored webhook, per process: on a shared machine a rate moves with the neighbours, this much less.
        let load = ChildProcess(name: "wrk", pid: wrk.processIdentifier)
        func sample() throws -> (at: Date, stored: UInt64, host: Double, nats: Double, wrk: Double) {
            (Date(), try stream.lastSequence(stream: Streams.webhooks), host.cpuSeconds, nats?.cpuSeconds ?? 0, load.cpuSeconds)
        }
        let first = try sample()
        try await Task.sleep(for: .seconds(seconds))
        let last = try sample()
        let output = early + String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        wrk.waitUntilExit()
        let requests = Self.number(after: "requests in", in: output, before: true) ?? 0
        let non2xx = Self.number(after: "Non-2xx or 3xx responses:", in: output) ?? 0
        let p99 = output.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("99%") }
            .map { String($0.split(separator: " ").last ?? "?") } ?? "?"
        let inWindow = Int(last.stored - first.stored), elapsed = last.at.timeIntervalSince(first.at)
        let stored = Int(try stream.lastSequence(stream: Streams.webhooks) - storedAtStart)
        Output.line(String(format: "receiver: %.0f verified webhooks/s stored (%d in %.1f s), p99 %@ (wrk: %d requests, %d not 2xx)",
                           Double(inWindow) / elapsed, inWindow, elapsed, p99, requests, non2xx))
        if inWindow > 0 {
            let perWebhook = { (cpu: Double) in cpu / Double(inWindow) * 1e6 }
            Output.line(String(format: "CPU per stored webhook: receiver %.1f µs, nats-server %.1f µs, wrk %.1f µs (%@ cores)",
                               perWebhook(last.host - first.host), perWebhook(last.nats - first.nats), perWebhook(last.wrk - first.wrk),
                               String(ProcessInfo.processInfo.activeProcessorCount)))
        }

        // The floor under those figures: the same server answering GET /health (HTTP on loopback, no plugin, no NATS).
        let floorBefore = host.cpuSeconds
        let floor = Process()
        floor.executableURL = URL(fileURLWithPath: "/usr/bin/wrk")
        floor.arguments = ["-t\(threads)", "-c\(connections)", "-d5s", "http://127.0.0.1:\(receiverPort)/health"]
        let floorPipe = Pipe()
        floor.standardOutput = floorPipe
        try floor.run()
        let floorOutput = String(decoding: floorPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        floor.waitUntilExit()
        if let answered = Self.number(after: "requests in", in: floorOutput, before: true), answered > 0 {
            Output.line(String(format: "floor: the receiver answers GET /health at %.0f requests/s, %.1f µs of its CPU each",
                               Double(answered) / 5, (host.cpuSeconds - floorBefore) / Double(answered) * 1e6))
        }

        var processor: ChildProcess?
        if apart {
            processor = try ChildProcess(name: "webhook processor", executable: executable,
                                         arguments: ["serve", "--roles", "webhook-processor", "--config", work + "/host.toml", "--log-level", "warning"],
                                         environment: childEnvironment, logPath: work + "/processor.log", readyText: "roles running")
        }
        defer { processor?.stop() }
        // With the processor alone, each process's CPU from here to the last event, over the events applied in
        // between: what an event costs where (the window also holds up to half a second of polling).
        let applying: [(String, [ChildProcess])] = processor.map { [("processor", [$0]), ("nats-server", nats.map { [$0] } ?? [])] } ?? []
        let cpuBefore = Dictionary(uniqueKeysWithValues: Self.cpu(applying))
        let appliedBefore = Int(try db.query("SELECT delivered_count FROM batches WHERE id = $1", [batchID])[0][0] ?? "0") ?? 0
        let windowStart = Date()
        // The processor: wait until every stored webhook is applied (JetStream dropped what wrk sent twice), or
        // nothing new was applied for 40 s: longer than the consumer's 30 s ack wait, after which JetStream hands out
        // again what a lane was given but did not get to (a processor stall the figures then show, not a failure).
        // Progress is read from the batch's counter (one row), not by counting the events, which would cost
        // PostgreSQL a scan of the growing table every half second inside the measured window.
        let deadline = Date().addingTimeInterval(300)
        var applied = 0, lastGrowth = Date()
        while Date() < deadline {
            let now = Int(try db.query("SELECT delivered_count FROM batches WHERE id = $1", [batchID])[0][0] ?? "0") ?? 0
            if now > applied { (applied, lastGrowth) = (now, Date()) }
            if applied >= stored || Date().timeIntervalSince(lastGrowth) > 40 { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        let cpuAfter = Self.cpu(applying), windowSeconds = Date().timeIntervalSince(windowStart)
        let appliedAfter = applied
        applied = Int(try db.query("SELECT count(*) FROM recipient_events")[0][0] ?? "0") ?? 0
        let figures = try db.query("""
            SELECT count(*), extract(epoch FROM max(applied_at) - min(applied_at)),
                   extract(epoch FROM percentile_cont(0.99) WITHIN GROUP (ORDER BY applied_at - received_at)) * 1000,
                   (SELECT count(*) FROM recipients WHERE batch_id = $1 AND status = 'delivered'),
                   (SELECT delivered_count FROM batches WHERE id = $1)
            FROM recipient_events
            """, [batchID])[0]
        let span = Double(figures[1] ?? "0") ?? 0
        Output.line(String(format: "processor: %d events applied at %.0f events/s, p99 %.0f ms from stored to applied; %@ recipients delivered (counter %@)",
                           applied, span > 0 ? Double(applied) / span : 0, Double(figures[2] ?? "0") ?? 0, figures[3] ?? "?", figures[4] ?? "?"))
        if processor != nil, appliedAfter > appliedBefore {
            let events = Double(appliedAfter - appliedBefore)
            let spent = cpuAfter.map { name, seconds in String(format: "%@ %.1f µs", name, (seconds - (cpuBefore[name] ?? 0)) / events * 1e6) }
            Output.line("CPU per applied event: " + spent.joined(separator: ", ")
                        + String(format: " (%d events in %.1f s, %d cores)", appliedAfter - appliedBefore, windowSeconds,
                                 ProcessInfo.processInfo.activeProcessorCount))
        }
        guard applied >= stored else {
            throw CommandFailure("the processor applied \(applied) of \(stored) stored webhooks (logs in \(work))")
        }
        try? FileManager.default.removeItem(atPath: work)
    }

    /// CPU seconds so far of each named group of processes, then of PostgreSQL, Redis and ClickHouse, in that order, each
    /// process with its ended children. The stack's processes are found anew each time: PostgreSQL forks one per
    /// connection, so the processor's are new (counted from nothing), and one that ends in between leaves its CPU with
    /// the server that waited for it (counted in both looks). Every process of those names on the machine counts.
    static func cpu(_ named: [(String, [ChildProcess])]) -> [(String, Double)] {
        let stack = Dictionary(uniqueKeysWithValues: ChildProcess.stackServers())
        let groups = named + [("PostgreSQL", "postgres"), ("Redis", "redis"), ("ClickHouse", "clickhouse")].map { ($0, stack[$1] ?? []) }
        return groups.map { name, processes in (name, processes.reduce(0) { $0 + $1.cpuSecondsWithChildren }) }
    }

    /// wrk's summary number next to `label`.
    static func number(after label: String, in text: String, before: Bool = false) -> Int? {
        guard let line = text.split(separator: "\n").first(where: { $0.contains(label) }) else { return nil }
        let words = line.split(separator: " ").map(String.init)
        if before {
            guard let index = words.firstIndex(of: "requests"), index > 0 else { return nil }
            return Int(words[index - 1])
        }
        return words.last.flatMap { Int($0) }
    }

    /// Each wrk thread loads its own file of whole requests, NUL-separated, and cycles through them; the
    /// last one loaded says so, which the benchmark waits for.
    static let script = #"""
        local counter = 0
        function setup(thread)
          thread:set("index", counter)
          counter = counter + 1
        end
        function init(args)
          local file = assert(io.open(args[1] .. "." .. index, "rb"))
          local data = file:read("*a")
          file:close()
          requests, position = {}, 0
          local start = 1
          while true do
            local stop = data:find("\0", start, true)
            if not stop then break end
            requests[#requests + 1] = data:sub(start, stop - 1)
            start = stop + 1
          end
          -- wrk paces a connection only when the script defines delay(): left undefined at full rate.
          local pause = tonumber(args[3]) or 0
          if pause > 0 then
            delay = function() return pause end
          end
          if index == tonumber(args[2]) - 1 then
            io.write("loaded\n")
            io.flush()
          end
        end
        function request()
          position = position % #requests + 1
          return requests[position]
        end
        """#
}
