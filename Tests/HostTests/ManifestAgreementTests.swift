import App
import Foundation
import HostCore
import Messaging
import ProviderModel
import SenderAPI
import TestSupport
import Testing

/// The Kubernetes manifests (deploy/k8s) agree with the code: every role the binary has is deployed, every
/// host config is one the host loads, every variable they set is one it reads, the autoscaler's metric is one
/// it exports, and every probe answers 200 on a real `serve` started with that Deployment's own arguments.
/// Reads what `scripts/check-manifests` rendered (.build/manifests/*.json); scripts/test runs that first and
/// sets BATCHSENDER_MANIFESTS=1, without which a missing rendering skips these tests.
@Suite("Kubernetes manifests agree with the code", .enabled(if: RenderedManifests.wanted))
struct ManifestAgreementTests {
    static let folder = RenderedManifests.folder

    /// One overlay as rendered.
    struct Overlay {
        let name: String
        let objects: [[String: Any]]
        let secretKeys: Set<String>

        func all(_ kind: String) -> [[String: Any]] { objects.filter { $0["kind"] as? String == kind } }
        var deployments: [[String: Any]] { all("Deployment") }
        /// The containers that run `batchsender serve`, with their Deployment's name.
        var serving: [(deployment: String, container: [String: Any])] {
            deployments.flatMap { deployment in
                Self.containers(of: deployment).filter { ($0["args"] as? [String])?.first == "serve" }.map {
                    ((deployment["metadata"] as? [String: Any])?["name"] as? String ?? "?", $0)
                }
            }
        }

        static func containers(of workload: [String: Any]) -> [[String: Any]] {
            let pod = ((workload["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any]
            return pod?["containers"] as? [[String: Any]] ?? []
        }

        /// Every host.toml a ConfigMap carries.
        var hostConfigs: [String] {
            all("ConfigMap").compactMap { ($0["data"] as? [String: String])?["host.toml"] }
        }

        /// The names the containers' environment may hold: their own `env`, and the keys of the ConfigMaps and
        /// Secrets they take whole.
        func environmentNames(of container: [String: Any]) -> Set<String> {
            var names = Set((container["env"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String })
            for source in container["envFrom"] as? [[String: Any]] ?? [] {
                if let map = (source["configMapRef"] as? [String: Any])?["name"] as? String,
                   let data = all("ConfigMap").first(where: { ($0["metadata"] as? [String: Any])?["name"] as? String == map })?["data"] as? [String: Any] {
                    names.formUnion(data.keys)
                }
                if source["secretRef"] != nil { names.formUnion(secretKeys) }
            }
            return names
        }
    }

    static func overlays() throws -> [Overlay] {
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted()
        guard !files.isEmpty else { throw TestSupportError("no rendered manifests in \(folder.path): run scripts/check-manifests") }
        return try files.map { file in
            let data = try Data(contentsOf: folder.appendingPathComponent(file))
            guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let objects = root["objects"] as? [[String: Any]] else { throw TestSupportError("\(file) is not a rendering") }
            let secret = (root["secretTemplate"] as? [String: Any])?["stringData"] as? [String: Any] ?? [:]
            return Overlay(name: root["overlay"] as? String ?? file, objects: objects, secretKeys: Set(secret.keys))
        }
    }

    static func option(_ name: String, in args: [String]) -> String? {
        args.firstIndex(of: name).flatMap { args.indices.contains($0 + 1) ? args[$0 + 1] : nil }
    }

    @Test("every role the binary has runs in some Deployment of every overlay, and each --roles parses")
    func everyRoleDeployed() throws {
        for overlay in try Self.overlays() {
            var deployed = Set<String>()
            for (deployment, container) in overlay.serving {
                let roles = Self.option("--roles", in: container["args"] as? [String] ?? [])
                #expect(roles != nil, "\(overlay.name): \(deployment) names its roles")
                #expect(throws: Never.self, "\(overlay.name): \(deployment)") { deployed.formUnion(try Role.parse(roles ?? "").map(\.rawValue)) }
            }
            #expect(deployed == Set(Role.allCases.map(\.rawValue)), "\(overlay.name): deployed \(deployed.sorted())")
        }
    }

    @Test("every host config loads as the host reads it (strict: an unknown key fails), and sets only variables the host reads")
    func configsAndEnvironment() throws {
        for overlay in try Self.overlays() {
            #expect(!overlay.hostConfigs.isEmpty, "\(overlay.name) has a host config")
            var referenced = Set<String>()
            for text in overlay.hostConfigs {
                #expect(throws: Never.self, "\(overlay.name)'s host.toml") { _ = try HostConfig.parse(text, path: "\(overlay.name)/host.toml") }
                // `env:NAME` values ([admin] token, managed keys) name variables too.
                for match in text.matches(of: /"env:([A-Z0-9_]+)"/) { referenced.insert(String(match.1)) }
            }
            let read = Set(HostEnvironment.variables + HostEnvironment.optionalVariables).union(referenced)
            for (deployment, container) in overlay.serving {
                let given = overlay.environmentNames(of: container)
                #expect(given.subtracting(read).isEmpty, "\(overlay.name): \(deployment) sets \(given.subtracting(read).sorted()), which the host never reads")
                #expect(Set(HostEnvironment.variables).subtracting(given).isEmpty,
                        "\(overlay.name): \(deployment) lacks \(Set(HostEnvironment.variables).subtracting(given).sorted())")
            }
        }
    }

    @Test("the autoscalers scale on a metric the host exports, over consumers the streams have")
    func scalersReadExportedMetric() throws {
        for overlay in try Self.overlays() {
            let scalers = overlay.all("ScaledObject")
            #expect(scalers.count >= 2, "\(overlay.name): senders and processors scale")
            for scaler in scalers {
                let triggers = (scaler["spec"] as? [String: Any])?["triggers"] as? [[String: Any]] ?? []
                for trigger in triggers {
                    let query = (trigger["metadata"] as? [String: Any])?["query"] as? String ?? ""
                    #expect(query.contains(QueueDepthMonitor.depthMetric + "{"), "\(overlay.name): \(query)")
                    let named = query.matches(of: /consumer=~?"([^"]+)"/).flatMap { String($0.1).split(separator: "|") }
                    let known = [Streams.batchConsumer.durable, Streams.priorityConsumer(ackWaitMs: 1).durable,
                                 Streams.tenantConsumer(userID: "", ackWaitMs: 1).durable]
                    for consumer in named {
                        let stem = consumer.replacingOccurrences(of: ".+", with: "")
                        #expect(known.contains(stem), "\(overlay.name): the query names consumer \(consumer); the streams have \(known)")
                    }
                }
            }
        }
    }

    @Test("each Deployment's probes answer 200 from a real serve started with its arguments and host config")
    func probesAnswer() async throws {
        let overlay = try #require(try Self.overlays().first { $0.name == "production" })
        let config = try #require(overlay.hostConfigs.first)
        let database = try ScratchDatabase(purpose: "manifests")
        let deploymentName = "manifests_\(getpid())"
        defer {
            database.drop()
            PipelineHarness.dropStreams(of: DeploymentSettings(name: deploymentName))
        }
        let http = CurlHTTPClient()
        defer { http.shutdown() }
        for (deployment, container) in overlay.serving {
            var args = container["args"] as? [String] ?? []
            // Each listener the pod declares moves to a free loopback port; the probes follow it.
            var ports: [Int: Int] = [:]
            for flag in ["--port", "--web-port", "--ops-port"] {
                guard let index = args.firstIndex(of: flag), let declared = Int(args[index + 1]) else { continue }
                ports[declared] = try LoopbackPort.free()
                args[index + 1] = String(ports[declared]!)
            }
            if let index = args.firstIndex(of: "--host") { args[index + 1] = "127.0.0.1" }
            let receiverPort = try LoopbackPort.free()
            ports[6002] = receiverPort
            let local = Self.localConfig(config, deployment: deploymentName, receiverPort: receiverPort)
            let path = TestPaths.scratch.appendingPathComponent("manifests-\(deployment).toml").path
            try local.write(toFile: path, atomically: true, encoding: .utf8)
            if let index = args.firstIndex(of: "--config") { args[index + 1] = path }
            if let index = args.firstIndex(of: "--log-format") { args.removeSubrange(index...index + 1) }
            var environment = ProcessInfo.processInfo.environment
            environment["DATABASE_URL"] = database.url
            environment["BATCHSENDER_MASTER_KEY"] = String(repeating: "07", count: 32)
            environment["BATCHSENDER_ADMIN_TOKEN"] = "manifest-agreement-admin-token-0123456789"
            // No analytics: a probe needs none, and no database of this test's name is left in ClickHouse.
            environment["CLICKHOUSE_URL"] = nil
            let server = try ServerProcess(executable: TestPaths.cli, arguments: args, environment: environment,
                                           ready: { $0.contains("listening") || $0.contains("roles running") })
            defer { server.kill9() }
            let named = Dictionary((container["ports"] as? [[String: Any]] ?? []).compactMap { port in
                (port["name"] as? String).map { ($0, port["containerPort"] as? Int ?? 0) }
            }, uniquingKeysWith: { first, _ in first })
            for kind in ["startupProbe", "livenessProbe", "readinessProbe"] {
                guard let get = (container[kind] as? [String: Any])?["httpGet"] as? [String: Any] else {
                    #expect(kind == "startupProbe", "\(deployment) has a \(kind)")
                    continue
                }
                let declared = (get["port"] as? Int) ?? named[get["port"] as? String ?? ""] ?? -1
                let port = try #require(ports[declared], "\(deployment): \(kind) on port \(get["port"] ?? "?"), which no listener of the process has")
                try LoopbackPort.waitUntilListening(port)
                let path = get["path"] as? String ?? "/"
                let answer = await http.execute(PreparedRequest(method: "GET", url: "http://127.0.0.1:\(port)\(path)", headers: [], body: [],
                                                                messageIndices: []), timeoutMs: 5_000)
                #expect(answer.status == 200, "\(deployment): \(kind) GET \(path) answered \(answer.status): \(String(decoding: answer.body.prefix(200), as: UTF8.self))")
            }
        }
    }

    /// The overlay's host config for this machine: the plugins built here, the receiver on `receiverPort`, a
    /// spill folder and deployment name of the test's own; every other key as deployed.
    static func localConfig(_ text: String, deployment: String, receiverPort: Int) -> String {
        var table = ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { raw -> String in
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") { table = line }
            switch (table, line.split(separator: "=").first.map { $0.trimmingCharacters(in: .whitespaces) }) {
            case ("[[plugin]]", "path"):
                let file = line.split(separator: "/").last.map { String($0.dropLast()) } ?? ""
                return "path = \"\(TestPaths.binDirectory.appendingPathComponent(file).path)\""
            case ("[webhooks]", "port"): return "port = \(receiverPort)"
            case ("[webhooks]", "host"): return "host = \"127.0.0.1\""
            case ("[analytics]", "spill_dir"): return "spill_dir = \"\(TestPaths.scratch.appendingPathComponent("manifests-spill").path)\""
            case ("[deployment]", "name"): return "name = \"\(deployment)\""
            case ("[nats]", "replicas"): return "replicas = 1"
            default: return String(raw)
            }
        }.joined(separator: "\n")
    }
}

/// Where scripts/check-manifests writes its renderings, and whether the suite runs.
enum RenderedManifests {
    static let folder = TestPaths.packageRoot.appendingPathComponent(".build/manifests")
    static var wanted: Bool {
        ProcessInfo.processInfo.environment["BATCHSENDER_MANIFESTS"] == "1"
            || FileManager.default.fileExists(atPath: folder.appendingPathComponent("production.json").path)
    }
}
