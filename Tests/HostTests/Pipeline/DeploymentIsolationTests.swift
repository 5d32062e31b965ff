import Foundation
import HostCore
import Messaging
import Persistence
import TestSupport
import Testing

/// Two deployments on one NATS, Redis and ClickHouse (`[deployment] name`): each one's hosts take only its
/// own jobs. Before the name existed they shared `batch-processor` and `priority`, and a stray host of one
/// deployment took another's batch jobs.
@Suite("Deployments side by side")
struct DeploymentIsolationTests {
    @Test("a deployment's hosts never take another's jobs: B's pipeline sends B's batch and leaves A's queued job, which A's own processor takes")
    func twoDeploymentsApart() async throws {
        let sandbox = try TestSandbox()
        let names = ["apart_a_\(getpid())", "apart_b_\(getpid())"]
        let a = try PipelineHarness(deployment: names[0])
        let b = try PipelineHarness(deployment: names[1])
        defer {
            a.finish()
            b.finish()
        }
        // A runs its API and discoverer only: its batch job waits on A's stream, in reach of B's processor were the
        // streams shared.
        try a.start("front", roles: "api,discoverer")
        try b.start("host")
        let count = 2_000
        let batchA = try await a.sentBatch(config: try await a.sendConfig("resend", sandbox: sandbox.url), payload: PipelineTests.emailPayload,
                                           csv: PipelineTests.csv(count: count))
        let batchB = try await b.sentBatch(config: try await b.sendConfig("resend", sandbox: sandbox.url), payload: PipelineTests.emailPayload,
                                           csv: PipelineTests.csv(count: count, offset: count))
        try await eventually("A's batch job on A's stream") { try Self.jobsWaiting(in: names[0]) >= 1 }
        let detailB = try await b.wait(batchB)
        #expect(PipelineHarness.counts(detailB)["sent"] == count)
        // B's hosts had their chance at A's job all along; give them the discoverer's rounds once more.
        try await Task.sleep(for: .seconds(2))
        let waiting = try await a.detail(batchA)
        #expect(PipelineHarness.counts(waiting)["sent", default: 0] == 0, "B's hosts sent none of A's batch: \(waiting)")
        #expect(try await sandbox.accepted() == count, "only B's recipients reached the sandbox so far")
        #expect(try Self.jobsWaiting(in: names[0]) >= 1, "A's batch job is still on A's own stream")

        try a.start("pipeline", roles: "processor,sender,background")
        let detailA = try await a.wait(batchA)
        #expect(PipelineHarness.counts(detailA)["sent"] == count)
        let stats = PipelineTests.section(try await sandbox.stats(), "resend")
        #expect(stats["messages_accepted"] == 2 * count)
        #expect(stats["duplicate_deliveries"] == 0, "no recipient twice: \(stats)")
    }

    @Test("a deployment's name is checked: what NATS, Redis and ClickHouse all take unquoted, or an error naming the key")
    func deploymentNameChecked() throws {
        #expect(try HostConfig.parse("[deployment]\nname = \"staging_2\"\n").deployment.name == "staging_2")
        for bad in ["", "Staging", "2nd", "a.b", "a-b", "a*", String(repeating: "a", count: 33), "é"] {
            #expect(throws: HostConfigError.self, "\(bad)") { try HostConfig.parse("[deployment]\nname = \"\(bad)\"\n") }
        }
        do {
            _ = try HostConfig.parse("[deployment]\nname = \"a.b\"\n")
        } catch {
            #expect(error.description.contains("deployment.name"), "names the key: \(error)")
        }
        // The name sets the Redis prefix unless [api] sets its own.
        #expect(try HostConfig.parse("[deployment]\nname = \"staging\"\n").api.redisKeyPrefix == "staging:")
        #expect(try HostConfig.parse("[deployment]\nname = \"staging\"\n[api]\nredis_key_prefix = \"own:\"\n").api.redisKeyPrefix == "own:")
        #expect(try HostConfig.parse("").api.redisKeyPrefix == "batchsender:")
        #expect(throws: HostConfigError.self) { try HostConfig.parse("[nats]\nreplicas = 0\n") }
        #expect(try HostConfig.parse("[nats]\nreplicas = 3\n").nats.replicas == 3)
    }

    @Test("the standard deployment keeps the names it always had; another's streams and subjects carry its name")
    func namespaceNames() throws {
        let standard = NATSNamespace.standard
        #expect(standard.stream(Streams.system) == "email-system")
        #expect(standard.subject(Streams.batchSubject) == "sys.batch.process")
        let staging = NATSNamespace(deployment: DeploymentSettings(name: "staging"))
        #expect(staging.stream(Streams.system) == "staging-email-system")
        #expect(staging.subject(Streams.tenantSubjects) == "staging.email.user.*.send")
        #expect(staging.logical("staging.webhook.resend.delivered") == "webhook.resend.delivered")
        // No deployment may be named after a first token of the standard deployment's subjects: its own would fall
        // under them. The reserved list and the streams must not drift apart.
        let firstTokens = Set(Streams.definitions.flatMap(\.subjects).compactMap { $0.split(separator: ".").first.map(String.init) })
        #expect(firstTokens == DeploymentSettings.reservedNames)
        for name in firstTokens {
            #expect(throws: HostConfigError.self, "\(name)") { try HostConfig.parse("[deployment]\nname = \"\(name)\"\n") }
        }
        for name in DeploymentSettings.analyticsReservedNames {
            #expect(throws: HostConfigError.self, "\(name)") { try HostConfig.parse("[deployment]\nname = \"\(name)\"\n") }
        }
        // Every server's password is hidden in an error text, not only the first one's.
        #expect(NATSServers.redacted("nats://u:one@a:4222,nats://u:two@b:4222") == "nats://u:***@a:4222,nats://u:***@b:4222")
        #expect(NATSServers.redacted("nats://s3cret-token@a:4222") == "nats://***@a:4222", "a token alone is a secret whole")
        #expect(throws: NATSError.self) { try NATSServers.parse("nats://a:4222,http://b:4222") }
        #expect(throws: NATSError.self) { try NATSServers.parse("nats://a:4222,") }
        #expect(try NATSServers.parse("nats://a:4222, nats://b:4222") == ["nats://a:4222", "nats://b:4222"])
    }

    @Test("on the cluster, a process with fewer replicas in its config never thins a deployment's streams",
          .enabled(if: ProcessInfo.processInfo.environment["NATS_CLUSTER_URL"] != nil))
    func replicasNeverLowered() throws {
        let url = try StackEnvironment.value("NATS_CLUSTER_URL")
        let name = DeploymentSettings(name: "replicas_\(getpid())")
        let three = try JetStream(url: url, namespace: NATSNamespace(deployment: name, nats: NATSSettings(replicas: 3)))
        defer { Streams.delete(three) }
        try Streams.ensure(three)
        #expect(try three.placement(of: Streams.system).replicas == 3)
        // An operator's command started without the deployment's config says 1.
        let one = try JetStream(url: url, namespace: NATSNamespace(deployment: name, nats: NATSSettings(replicas: 1)))
        try Streams.ensure(one)
        #expect(try one.placement(of: Streams.system).replicas == 3)
        #expect(try one.placement(of: Streams.system).leader != nil)
    }

    /// Batch jobs on the deployment's work stream, read through its own names.
    static func jobsWaiting(in deployment: String) throws -> UInt64 {
        let jetStream = try JetStream(url: try StackEnvironment.value("NATS_URL"), namespace: NATSNamespace(deployment: DeploymentSettings(name: deployment)))
        // A work-queue stream holds a job until a consumer acknowledges it (A runs no processor yet: no consumer).
        return try jetStream.messageCount(stream: Streams.system)
    }
}
