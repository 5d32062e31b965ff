import App
import Analytics
import Foundation
import HostCore
import Messaging
import Persistence
import SenderAPI

/// A database and a Redis key prefix of the benchmark run's own, on the stack's servers, dropped after it.
struct ScratchDeployment {
    let adminURL: String
    let redisURL: String
    let name: String
    let databaseURL: String
    let redisPrefix: String
    /// The run's `[deployment] name`, for the runs that take one (the fault matrix): streams and an analytics
    /// database of its own.
    let deployment: String

    init(environment: HostEnvironment) throws {
        let adminURL = environment.databaseURL
        self.adminURL = adminURL
        redisURL = environment.redisURL
        name = "batchsender_bench_\(getpid())"
        redisPrefix = "bench-\(getpid()):"
        deployment = "bench_\(getpid())"
        guard let slash = adminURL.lastIndex(of: "/") else { throw CommandFailure("DATABASE_URL has no database name: \(adminURL)") }
        let base = String(adminURL[..<slash])
        let query = adminURL[slash...].firstIndex(of: "?").map { String(adminURL[$0...]) } ?? ""
        databaseURL = base + "/" + name + query
        do {
            let admin = try PostgresConnection(url: adminURL)
            try admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            try admin.execute("CREATE DATABASE \(name)")
        } catch {
            throw CommandFailure("cannot make the benchmark's scratch database: \(error)")
        }
    }

    /// What a run's own processes need: the environment they get (the run's database, the NATS it runs on), this
    /// command's own executable, which they are, and an API key, once the database has its schema.
    func prepared(natsURL: String) async throws -> (environment: [String: String], executable: String, key: String) {
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = databaseURL
        environment["NATS_URL"] = natsURL
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        try await FaultsCommand.migrate(executable: executable, environment: environment)
        return (environment, executable, try E2EBenchCommand.apiKey(executable: executable, environment: environment))
    }

    /// Deletes the run's deployment's streams and analytics database (the servers are shared: nothing is left).
    func dropDeployment(natsURL: String, clickhouseURL: String?, replicas: Int, http: any HTTPClient) async {
        let namespace = NATSNamespace(deployment: DeploymentSettings(name: deployment), nats: NATSSettings(replicas: replicas))
        _ = await Task.detached {
            guard let jetStream = try? JetStream(url: natsURL, namespace: namespace) else { return }
            Streams.delete(jetStream)
        }.value
        guard let clickhouseURL, let client = try? ClickHouseClient(url: clickhouseURL, http: http, defaultDatabase: deployment),
              client.database == deployment else { return }
        try? await client.dropDatabase()
    }

    /// Drops the database and deletes the run's Redis keys.
    func drop() {
        if let admin = try? PostgresConnection(url: adminURL) { try? admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
        guard let redis = try? RedisConnection(url: redisURL) else { return }
        var cursor = "0"
        repeat {
            guard let reply = try? redis.command(["SCAN", cursor, "MATCH", redisPrefix + "*", "COUNT", "1000"]).array, reply.count == 2 else { return }
            cursor = reply[0].string ?? "0"
            let keys = reply[1].array.compactMap(\.string)
            if !keys.isEmpty { _ = try? redis.command(["UNLINK"] + keys) }
        } while cursor != "0"
    }
}
