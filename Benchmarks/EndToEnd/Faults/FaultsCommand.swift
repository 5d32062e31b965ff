import App
import ArgumentParser
import Foundation
import HostCore
import SenderAPI

/// `batchsender faults`: the fault matrix. Each fault runs against a batch sending under a binding limit,
/// with a host and a sandbox started for it on the local stack (a scratch database and Redis prefix), and
/// prints one row: sent, lost, duplicate deliveries, stuck, counters against rows, seconds to recover.
public struct FaultsCommand: AsyncParsableCommand {
    public init() {}
    public static let configuration = CommandConfiguration(
        commandName: "faults",
        abstract: "Run each fault (kills, restarts, data loss, a brownout, lossy answers, webhook disorder, a cancel) against a sending batch and print what it cost.",
        discussion: """
            Needs the local stack (scripts/stack up), its environment (.env.dev) and scripts/stack (run from the repository's root). It \
            restarts the stack's servers and FLUSHes its Redis: every deployment on them sees the faults too. Faults: \
            \(Fault.allCases.map { "\($0.rawValue) (\($0.summary))" }.joined(separator: "; ")). Exits 1 when a row fails.
            """)

    @Option(help: "Recipients per fault's batch (the limit is set so that it takes about 10 s); 20,000, or 1,500 with --short.")
    var recipients: Int?

    @Option(help: "resend, ses or telnyx.")
    var provider: String = "resend"

    @Option(help: "Only these faults, comma-separated (names as in the table).")
    var only: String?

    @Flag(help: "The quick matrix scripts/test runs: \(Fault.short.map(\.rawValue).joined(separator: ", ")); 1,500 recipients unless --recipients; a 5 s ack wait and 10 s claim hold; shorter outages.")
    var short = false

    @Flag(help: "Run on the three-node NATS cluster (scripts/stack up --cluster; its URLs in NATS_CLUSTER_URL), streams with 3 replicas, a 5 s ack wait and 10 s claim hold: \(Fault.cluster.map(\.rawValue).joined(separator: ", ")) unless --only.")
    var cluster = false

    @Option(help: "The stack's control script.")
    var stack: String = "scripts/stack"

    @Option(help: "The port for the sandbox this run starts.")
    var sandboxPort: Int = 6290

    @Option(help: "The port for the host this run starts (the next one is its webhook receiver).")
    var apiPort: Int = 6191

    func faults() throws -> [Fault] {
        guard let only else { return cluster ? Fault.cluster : short ? Fault.short : Fault.allCases.filter { !$0.needsCluster } }
        return try only.split(separator: ",").map { name in
            guard let fault = Fault(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--only: no fault \(name); the faults are \(Fault.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if fault.needsCluster && !cluster { throw ValidationError("--only: \(fault.rawValue) needs --cluster") }
            // The cluster run's hosts are not on the single server that fault restarts.
            if fault == .natsRestart && cluster { throw ValidationError("--only: \(fault.rawValue) restarts the single NATS server; without --cluster") }
            return fault
        }
    }

    public func run() async throws {
        let faults = try faults()
        guard let chosen = DeliveryRun.Provider(rawValue: provider), chosen != .webhook else {
            throw ValidationError("--provider must be resend, ses or telnyx, not \(provider)")
        }
        let count = recipients ?? (short ? 1_500 : 20_000)
        guard (30...1_000_000).contains(count) else { throw ValidationError("--recipients must be 30 to 1,000,000") }
        let environment: HostEnvironment
        do { environment = try HostEnvironment(ProcessInfo.processInfo.environment) } catch { throw CommandFailure(error.description) }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("batchsender-faults-\(getpid())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let script = try StackScript(path: stack, logPath: work + "/stack.log")
        var natsURL = environment.natsURL
        if cluster {
            guard let listed = ProcessInfo.processInfo.environment["NATS_CLUSTER_URL"], !listed.isEmpty else {
                throw ValidationError("--cluster needs NATS_CLUSTER_URL (scripts/stack up --cluster, then .env.dev)")
            }
            natsURL = listed
        }
        let scratch = try ScratchDeployment(environment: environment)
        defer { scratch.drop() }
        let replicas = cluster ? 3 : 1
        let (childEnvironment, executable, key) = try await scratch.prepared(natsURL: natsURL)
        let http = CurlHTTPClient()
        defer { http.shutdown() }
        let matrix = FaultMatrix(executable: executable, work: work, environment: childEnvironment, databaseURL: scratch.databaseURL,
                                 redisURL: environment.redisURL, redisPrefix: scratch.redisPrefix, deployment: scratch.deployment,
                                 natsURL: natsURL, replicas: replicas, stack: script, provider: chosen,
                                 recipients: count, short: short, apiPort: apiPort, sandboxPort: sandboxPort, key: key, http: http)
        Output.line("fault matrix: \(faults.count) faults, \(count) \(chosen.rawValue) recipients each, limited to \(matrix.rate)/s, "
                    + "deployment \(scratch.deployment)\(cluster ? " on the NATS cluster (3 replicas)" : ""); logs in \(work)")
        var rows: [FaultRow] = []
        for (index, fault) in faults.enumerated() {
            Output.line("\(fault.rawValue): \(fault.summary)…")
            do {
                rows.append(try await matrix.run(fault, offset: index * count))
            } catch {
                var row = FaultRow(fault: fault, recipients: count)
                row.stuck = true
                row.note = "the run failed: \(error)"
                rows.append(row)
            }
            if let row = rows.last, !row.note.isEmpty { Output.line("  \(row.note)") }
        }
        Output.line("")
        let table = [FaultRow.header] + rows.map(\.cells)
        let widths = FaultRow.header.indices.map { column in table.map { $0[column].count }.max() ?? 0 }
        for line in table {
            Output.line(zip(line, widths).enumerated().map { index, cell in
                let padding = String(repeating: " ", count: cell.1 - cell.0.count)
                return index == 0 ? cell.0 + padding : padding + cell.0
            }.joined(separator: "  "))
        }
        await scratch.dropDeployment(natsURL: natsURL, clickhouseURL: environment.clickhouseURL, replicas: replicas, http: http)
        guard rows.allSatisfy(\.passed) else {
            throw CommandFailure("a fault lost, duplicated or stranded messages beyond its bound (logs in \(work))", exitCode: 1)
        }
        try? FileManager.default.removeItem(atPath: work)
    }

    /// The scratch database's schema, through `batchsender migrate`.
    static func migrate(executable: String, environment: [String: String]) async throws {
        let process = Process()
        process.environment = environment
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["migrate"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CommandFailure("batchsender migrate failed on the scratch database") }
    }
}
