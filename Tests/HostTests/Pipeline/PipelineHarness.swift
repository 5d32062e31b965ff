import Analytics
import Domain
import Foundation
import HostCore
import Messaging
import Persistence
import ProviderInstances
import ProviderModel
import TestSupport

/// A whole deployment for one test: a scratch PostgreSQL database of its own,
/// the stack's Redis (under a key prefix of its own), NATS and ClickHouse under a
/// deployment name of its own (`[deployment] name`: its streams, consumers and
/// analytics database apart from every other test's), and `batchsender serve`
/// processes running the roles the test asks for, started and killed (`kill -9`)
/// like real ones. The sender API is reached over HTTP.
final class PipelineHarness: @unchecked Sendable {
    let database: ScratchDatabase
    /// The `[deployment] name` every host of this harness runs under.
    let deployment: DeploymentSettings
    /// How this deployment's streams are named on the stack's NATS, for a test that reads them.
    var namespace: NATSNamespace { NATSNamespace(deployment: deployment) }
    var databaseURL: String { database.url }
    var databaseName: String { database.name }
    let apiPort: Int
    /// The webhook receiver's port (`serve --roles receiver`).
    let receiverPort: Int
    /// Where this deployment's event writer keeps blocks while ClickHouse is away.
    let spillDirectory: String
    let configPath: String
    private var hosts: [String: ServerProcess] = [:]
    /// Whether this harness made the database (and drops it when it finishes).
    private let ownsDatabase: Bool
    private let http = CurlHTTPClient()
    /// The API key `call` sends (another tenant's, set by a test that acts as two users).
    var key = ""
    /// What lives as long as this deployment (the sandbox its send-configs point at): released by `finish`.
    var companions: [AnyObject] = []

    static let masterKey = String(repeating: "07", count: 32)

    /// `[managed.ses]` and `[managed.telnyx]` tables whose accounts send to `baseURL`, with the keys the tests
    /// sign their webhooks with; `certificatePrefix` lets SES fetch its signing certificate from a loopback sandbox.
    static func managedSESAndTelnyx(baseURL: String, certificatePrefix: String? = nil) -> String {
        """
        [managed.ses]
        access_key_id = "AKIDEXAMPLE"
        secret_access_key = "env:TEST_MANAGED_SES_SECRET"
        region = "us-east-1"
        base_url = "\(baseURL)"
        configuration_set = "batchsender-events"
        sns_topic_arns = "[\\"arn:aws:sns:us-east-1:123456789012:batchsender-ses-events\\"]"
        \(certificatePrefix.map { "insecure_test_cert_url_prefix = \"\($0)\"" } ?? "")
        [managed.telnyx]
        api_key = "KEYmanaged0123456789"
        public_key = "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
        base_url = "\(baseURL)"

        """
    }

    /// `pipeline`: `[pipeline]` keys (over the harness's); `plugins`: the providers this deployment loads.
    /// `webhooks`: `[webhooks]` keys; `tables`: more tables for the host config (`[managed.ses]`, say).
    /// `managedBaseURL`: where the managed Resend account sends (a sandbox); `limits`: the `[limits]` table.
    /// `analytics`: the `[analytics]` keys (a short flush interval by default, so that tests need not wait 5 s).
    /// `deployment`: the `[deployment] name` (by default one of its own, so that tests run side by side).
    convenience init(pipeline: String = "", webhooks: String = "", tables: String = "", limits: String = SendRateLimits.unlimitedTOML,
                     managedBaseURL: String? = nil, plugins: [String] = ["Resend", "SES", "Telnyx", "CustomWebhook"],
                     analytics: String = "flush_interval_ms = 200", deployment: String = PipelineHarness.freshDeploymentName()) throws {
        try self.init(database: ScratchDatabase(purpose: "pipeline"), ownsDatabase: true, deployment: DeploymentSettings(name: deployment),
                      pipeline: pipeline, webhooks: webhooks, tables: tables, limits: limits, managedBaseURL: managedBaseURL, plugins: plugins,
                      analytics: analytics)
    }

    /// A deployment name no other harness of any test run on this stack has: `t`, the process id and a random part
    /// (DeploymentSettings.problem's rules: lower-case letters, digits and _, at most 32).
    static func freshDeploymentName() -> String {
        "t\(getpid())_\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
    }

    /// Another deployment over the same database and Redis keys (a restart with other plugins).
    static func reusing(_ other: PipelineHarness, plugins: [String]) throws -> PipelineHarness {
        let harness = try PipelineHarness(database: other.database, ownsDatabase: false, deployment: other.deployment, pipeline: "",
                                          webhooks: "", tables: "",
                                          limits: SendRateLimits.unlimitedTOML, managedBaseURL: nil, plugins: plugins,
                                          analytics: "flush_interval_ms = 200")
        harness.key = other.key
        return harness
    }

    private init(database: ScratchDatabase, ownsDatabase: Bool, deployment: DeploymentSettings, pipeline: String, webhooks: String,
                 tables: String, limits: String, managedBaseURL: String?, plugins: [String], analytics: String) throws {
        self.database = database
        self.ownsDatabase = ownsDatabase
        self.deployment = deployment
        apiPort = try LoopbackPort.free()
        receiverPort = try LoopbackPort.free()
        spillDirectory = TestPaths.scratch.appendingPathComponent("spill-\(database.name)").path
        var config = HostConfigBuilder()
        for plugin in plugins { config.plugin(path: TestPaths.providerPlugin(plugin)) }
        config.set("deployment", "name", "\"\(deployment.name)\"")
        config.set("api", lines: """
            redis_key_prefix = "test:\(database.name):"
            rate_limit_per_key = 100000
            rate_limit_per_address = 100000
            allow_test_options = true
            """)
        config.set("pipeline", lines: """
            sync_interval_ms = 200
            discover_interval_ms = 100
            backoff_base_ms = 200
            backoff_max_ms = 2000
            throttle_delay_ms = 200
            """)
        config.set("pipeline", lines: pipeline)
        config.set("webhooks", lines: """
            port = \(receiverPort)
            public_url = "http://127.0.0.1:\(receiverPort)"
            orphan_retry_ms = 300
            publish_timeout_ms = 1500
            """)
        config.set("webhooks", lines: webhooks)
        config.set("unsubscribe", "base_url", "\"http://127.0.0.1:\(apiPort)\"")
        config.set("fetch", "allow", #"["http://127.0.0.1:*/sns/*"]"#)
        // The sandbox is on loopback, over plain http: allowed here, refused by default; the SES configs trust
        // the sandbox's SNS certificates (allow_test_options above), a test-only option.
        config.set("outbound", "allow", #"["127.0.0.0/8"]"#)
        config.set("outbound", "allow_http", "true")
        config.merge(limits)
        config.set("admin", "token", #""env:TEST_ADMIN_TOKEN""#)
        config.set("analytics", "spill_dir", "\"\(spillDirectory)\"")
        config.set("analytics", lines: analytics)
        config.set("managed.resend", lines: """
            api_key = "re_managed_0123456789"
            webhook_secret = "env:TEST_MANAGED_RESEND_WEBHOOK_SECRET"
            """)
        if let managedBaseURL { config.set("managed.resend", "base_url", "\"\(managedBaseURL)\"") }
        config.merge(tables)
        configPath = try config.write()
    }

    var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = databaseURL
        environment["BATCHSENDER_MASTER_KEY"] = Self.masterKey
        // The sandbox's Resend webhook secret, as a deployment's managed account would have its own.
        environment["TEST_MANAGED_RESEND_WEBHOOK_SECRET"] = "whsec_YmF0Y2hzZW5kZXItc2FuZGJveC1yZXNlbmQta2V5ISE="
        environment["TEST_ADMIN_TOKEN"] = Self.adminToken
        environment["TEST_MANAGED_SES_SECRET"] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
        return environment
    }

    /// Starts `batchsender serve --roles ROLES` under `name` and waits until it runs; `arguments` go after the
    /// harness's own (a later `--log-level` wins), and `log` names a file its standard error is appended to
    /// (TEST_HOST_LOG=FILE keeps every host's, when a test needs looking into).
    func start(_ name: String, roles: String = "api,discoverer,processor,sender,background", arguments: [String] = [], log: String? = nil) throws {
        let host = try ServerProcess(executable: TestPaths.cli,
                                     arguments: ["serve", "--roles", roles, "--port", String(apiPort), "--config", configPath, "--log-level",
                                                 ProcessInfo.processInfo.environment["TEST_HOST_LOG_LEVEL"] ?? "warning"] + arguments,
                                     environment: environment, log: log ?? ProcessInfo.processInfo.environment["TEST_HOST_LOG"],
                                     ready: { $0.contains("listening") || $0.contains("roles running") })
        hosts[name] = host
        // Several roles print their own line; wait until each listening one answers.
        for (role, port) in [("api", apiPort), ("receiver", receiverPort)] where roles.split(separator: ",").contains(Substring(role)) {
            try LoopbackPort.waitUntilListening(port)
        }
        if key.isEmpty, roles.contains("api") { key = try makeKey() }
    }

    /// This deployment with its host `host` started (`start("host", roles:)`); finished again when that fails.
    func started(roles: String = "api,discoverer,processor,sender,background") throws -> PipelineHarness {
        do { try start("host", roles: roles) } catch {
            finish()
            throw error
        }
        return self
    }

    /// SIGSTOP or SIGCONT: a host that hangs (its port still taken, nothing answered), and one that goes on.
    func signal(_ name: String, _ signal: Int32) {
        if let host = hosts[name] { kill(host.pid, signal) }
    }

    /// `kill -9`: no draining, no goodbye.
    func kill9(_ name: String) {
        hosts.removeValue(forKey: name)?.kill9()
    }

    /// SIGTERM, and waits until the host drained and exited; its exit status.
    @discardableResult
    func terminate(_ name: String) -> Int32 {
        hosts.removeValue(forKey: name)?.terminate() ?? -1
    }

    func stopHosts() {
        for name in Array(hosts.keys) { kill9(name) }
    }

    /// Stops the hosts and, when this harness made them, drops the database, the deployment's streams and its
    /// analytics database (never the standard deployment's, nor a database CLICKHOUSE_URL names).
    func finish() {
        stopHosts()
        companions = []
        guard ownsDatabase else { return http.shutdown() }
        database.drop()
        // The standard deployment's streams and database are a developer's own stack's: left as they are.
        guard deployment.name != DeploymentSettings.standardName else { return http.shutdown() }
        Self.dropStreams(of: deployment)
        // Left to finish on its own: `finish` runs in `defer`, where nothing can be awaited, and waiting here on a
        // task would hold a thread of the pool that task may need. Only the deployment's own database: a
        // CLICKHOUSE_URL that names one has every host write there.
        guard let url = try? StackEnvironment.value("CLICKHOUSE_URL"),
              let analytics = try? ClickHouseClient(url: url, http: http, defaultDatabase: deployment.analyticsDatabase),
              analytics.database == deployment.analyticsDatabase else { return http.shutdown() }
        Task.detached { [http] in
            try? await analytics.dropDatabase()
            http.shutdown()
        }
    }

    /// Deletes a deployment's streams, with their consumers, from the stack's NATS (what `Streams.ensure` made).
    static func dropStreams(of deployment: DeploymentSettings) {
        guard let url = try? StackEnvironment.value("NATS_URL"),
              let jetStream = try? JetStream(url: url, namespace: NATSNamespace(deployment: deployment)) else { return }
        Streams.delete(jetStream)
    }

    /// An API key of the user with `email` (made when there is none): another tenant of this deployment.
    func makeKey(email: String = "pipeline@example.com") throws -> String {
        let run = try FinishedProcess.run(TestPaths.cli, ["apikey", "create", "--email", email, "--name", "test"], environment: environment)
        let data = Data(run.stdout.utf8)
        guard let key = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["key"] as? String else {
            throw TestSupportError("apikey create failed (exit \(run.status)): \(run.stdout) \(run.stderr)")
        }
        return key
    }

    /// `batchsender ARGS…` against this deployment (its database and host config); its status and stdout.
    func cli(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let run = try FinishedProcess.run(TestPaths.cli, arguments + ["--config", configPath], environment: environment, mergingStderr: true)
        return (run.status, run.stdout)
    }

    // MARK: The API

    /// The sum of a metric's series on the API's `/metrics` (nil when it has none).
    func metric(_ name: String) async -> Double? {
        let result = await http.execute(PreparedRequest(method: "GET", url: "http://127.0.0.1:\(apiPort)/metrics", headers: [], body: [],
                                                        messageIndices: []), timeoutMs: 5_000)
        let values = String(decoding: result.body, as: UTF8.self).split(separator: "\n").compactMap { line -> Double? in
            guard line.hasPrefix(name + " ") || line.hasPrefix(name + "{") else { return nil }
            return line.split(separator: " ").last.flatMap { Double($0) }
        }
        return values.isEmpty ? nil : values.reduce(0, +)
    }

    /// Rows of a query on the stack's ClickHouse, in this deployment's analytics database.
    func clickhouse(_ sql: String) async throws -> [JSONValue] {
        try await ClickHouseClient(url: try StackEnvironment.value("CLICKHOUSE_URL"), http: http,
                                   defaultDatabase: deployment.analyticsDatabase).rows(sql)
    }

    /// The operators' token for `/admin/*` in this deployment.
    static let adminToken = "admin-token-for-tests-0123456789"

    /// `call` with the admin token instead of the user's key.
    @discardableResult
    func admin(_ method: String, _ path: String, json: Any? = nil, expect: Int? = nil) async throws -> [String: Any] {
        try await call(method, path, json: json, expect: expect, token: Self.adminToken)
    }

    @discardableResult
    func call(_ method: String, _ path: String, json: Any? = nil, csv: String? = nil, raw: (bytes: [UInt8], type: String)? = nil,
              expect: Int? = nil, token: String? = nil, headers extra: [String: String] = [:]) async throws -> [String: Any] {
        var headers = [KeyValue("Authorization", "Bearer \(token ?? key)")] + extra.sorted { $0.key < $1.key }.map { KeyValue($0.key, $0.value) }
        var body: [UInt8] = []
        if let json {
            body = Array(try JSONSerialization.data(withJSONObject: json))
            headers.append(KeyValue("Content-Type", "application/json"))
        } else if let csv {
            body = Array(csv.utf8)
            headers.append(KeyValue("Content-Type", "text/csv"))
        } else if let raw {
            body = raw.bytes
            headers.append(KeyValue("Content-Type", raw.type))
        }
        let request = PreparedRequest(method: method, url: "http://127.0.0.1:\(apiPort)\(path)", headers: headers, body: body, messageIndices: [])
        var result = await http.execute(request, timeoutMs: 60_000)
        // A 503 of a store the API could not reach in time (its rate limiter's Redis, under CI's load on a host just
        // started) says nothing was done and when to come back: the harness does what a client should, a few times.
        for _ in 0..<5 where result.status == 503 && expect != 503 {
            let wait = min(max(Int(result.headers.first(named: "retry-after") ?? "") ?? 1, 1), 2)
            try await Task.sleep(for: .seconds(wait))
            result = await http.execute(request, timeoutMs: 60_000)
        }
        let object = (try? JSONSerialization.jsonObject(with: Data(result.body)) as? [String: Any]) ?? [:]
        if let expect, result.status != expect {
            throw TestSupportError("\(method) \(path) answered \(result.status), not \(expect): \(String(decoding: result.body, as: UTF8.self).prefix(300))")
        }
        if expect == nil, !(200..<300).contains(result.status) {
            throw TestSupportError("\(method) \(path) answered \(result.status): \(String(decoding: result.body, as: UTF8.self).prefix(300)) \(result.transportMessage)")
        }
        return object
    }

    /// A send-config for a provider pointing at `sandbox`; returns its id.
    func sendConfig(_ provider: String, sandbox: String, url: String? = nil, token: String? = nil) async throws -> String {
        var body: [String: Any] = ["name": "\(provider) \(UUID().uuidString.prefix(6))", "provider": provider]
        switch provider {
        case "resend":
            body["credentials"] = ["api_key": "re_test_0123456789abcdef", "base_url": sandbox,
                                   "webhook_secret": "whsec_YmF0Y2hzZW5kZXItc2FuZGJveC1yZXNlbmQta2V5ISE="]
            body["defaults"] = ["from": "news@example.com"]
        case "ses":
            body["credentials"] = ["access_key_id": "AKIDEXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                   "region": "us-east-1", "base_url": sandbox, "configuration_set": "batchsender-events",
                                   "insecure_test_cert_url_prefix": sandbox + "/sns/",
                                   "sns_topic_arns": ["arn:aws:sns:us-east-1:123456789012:batchsender-ses-events"]]
            body["defaults"] = ["from": "news@example.com"]
        case "telnyx":
            body["channel"] = "sms"
            body["credentials"] = ["api_key": "KEYtest0123456789", "public_key": "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=", "base_url": sandbox]
            body["defaults"] = ["from": "+13125550100"]
        default:
            body["channel"] = "webhook"
            body["credentials"] = ["url": url ?? sandbox + "/receiver/orders", "secret": "whsec_YmF0Y2hzZW5kZXItc2FuZGJveC1yZWNlaXZlci1rZXk="]
        }
        return try await call("POST", "/api/send-configs", json: body, token: token)["id"] as! String
    }

    /// A managed send-config of `provider` (the deployment's own account); returns its id.
    func managedConfig(_ provider: String) async throws -> String {
        var body: [String: Any] = ["name": "managed \(provider) \(UUID().uuidString.prefix(6))", "provider": provider, "mode": "managed"]
        body["defaults"] = ["from": provider == "telnyx" ? "+13125550100" : "news@example.com"]
        if provider == "telnyx" { body["channel"] = "sms" }
        return try await call("POST", "/api/send-configs", json: body)["id"] as! String
    }

    /// A draft batch with `csv` uploaded; returns its id.
    func batch(config: String, payload: [String: Any], csv: String, token: String? = nil) async throws -> String {
        let id = try await call("POST", "/api/batches", json: ["name": "test", "sendConfigId": config, "payload": payload], token: token)["id"] as! String
        try await call("POST", "/api/batches/\(id)/recipients", csv: csv, token: token)
        return id
    }

    /// A batch of `csv` on `config`, sent (not waited for); its id. `token`: another user's key than the harness's.
    func sentBatch(config: String, payload: [String: Any], csv: String, token: String? = nil) async throws -> String {
        let batch = try await batch(config: config, payload: payload, csv: csv, token: token)
        try await call("POST", "/api/batches/\(batch)/send", token: token)
        return batch
    }

    /// A Resend send-config on `sandbox`, a batch of `count` recipients with the test email, sent; its id.
    func sendResendBatch(sandbox: TestSandbox, count: Int) async throws -> String {
        try await sentBatch(config: try await sendConfig("resend", sandbox: sandbox.url), payload: PipelineTests.emailPayload,
                            csv: PipelineTests.csv(count: count))
    }

    func detail(_ batch: String, token: String? = nil) async throws -> [String: Any] { try await call("GET", "/api/batches/\(batch)", token: token) }

    /// Waits until the batch's status is one of `statuses`; throws after `seconds`, naming the status it had.
    @discardableResult
    func wait(_ batch: String, for statuses: Set<String> = ["completed"], seconds: Int = 120, token: String? = nil) async throws -> [String: Any] {
        var last: [String: Any] = [:]
        do {
            return try await eventuallyValue("batch \(batch) \(statuses.sorted())", timeout: .seconds(seconds), interval: .milliseconds(200)) {
                guard let detail = try? await detail(batch, token: token) else { return nil }
                last = detail
                return (detail["status"] as? String).map(statuses.contains) == true ? detail : nil
            }
        } catch {
            throw TestSupportError("batch \(batch) is not \(statuses.sorted()) after \(seconds) s: \(last["status"] ?? "?") \(last["counts"] ?? "")")
        }
    }

    /// Recipient rows per status, counted in PostgreSQL (the truth the counters must match).
    func rowsByStatus(_ batch: String) throws -> [String: Int] {
        let db = try PostgresConnection(url: databaseURL)
        var counts: [String: Int] = [:]
        for row in try db.query("SELECT status, count(*) FROM recipients WHERE batch_id = $1 GROUP BY status", [batch]) {
            counts[row[0] ?? ""] = Int(row[1] ?? "0") ?? 0
        }
        return counts
    }

    /// The batch's rows that did not end `sent`, by status, attempts and last error (what a failed count
    /// needs to be read by).
    func failures(_ batch: String) throws -> [String] {
        try query("""
            SELECT status || ' attempts=' || attempts || ' ' || coalesce(last_error, '-') || ' ×' || count(*)
            FROM recipients WHERE batch_id = $1 AND status <> 'sent'
            GROUP BY status, attempts, last_error ORDER BY count(*) DESC LIMIT 10
            """, [batch]).map { $0[0] ?? "" }
    }

    func query(_ sql: String, _ parameters: [String?] = []) throws -> [[String?]] {
        try PostgresConnection(url: databaseURL).query(sql, parameters)
    }

    static func counts(_ detail: [String: Any]) -> [String: Int] {
        (detail["counts"] as? [String: Any] ?? [:]).compactMapValues { $0 as? Int }
    }
}
