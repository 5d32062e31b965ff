import App
import Foundation
import HostCore
import Messaging
import Persistence

/// The faults `batchsender cluster-demo` injects in turn, each a kill -9 and a start again.
struct ClusterFaults {
    enum Fault: String, CaseIterable {
        case natsLeader = "nats-leader-kill"
        case sender = "sender-kill"
        case processor = "processor-kill"
        case leadingDiscoverer = "discoverer-leader-kill"
    }

    let processes: RoleProcesses
    let stack: StackScript
    let natsURL: String
    let deployment: String
    let redisURL: String
    let redisPrefix: String

    /// Kills what the fault names; what it killed.
    func inject(_ fault: Fault) async throws -> String {
        switch fault {
        case .natsLeader:
            let leader = try await streamLeader()
            try await stack.run(["cluster", "kill", leader])
            return "NATS node \(leader), which led the work stream, killed; started again after 15 s"
        case .sender:
            processes.kill9("sender-1")
            return "sender-1 killed; started again after 15 s"
        case .processor:
            processes.kill9("processor-1")
            return "processor-1 killed; started again after 15 s"
        case .leadingDiscoverer:
            let name = try leadingDiscoverer()
            processes.kill9(name)
            return "\(name), the leading discoverer, killed; started again after 15 s"
        }
    }

    /// Starts again what `inject` killed (the NATS node by its name, a process by its slot).
    func mend(_ fault: Fault) async throws {
        switch fault {
        case .natsLeader:
            for node in ["n1", "n2", "n3"] { try await stack.run(["cluster", "start", node]) }
        case .sender: try processes.start("sender", 1)
        case .processor: try processes.start("processor", 1)
        case .leadingDiscoverer:
            for index in 1...2 where !processes.running.keys.contains("control-\(index)") { try processes.start("control", index) }
        }
    }

    func streamLeader() async throws -> String {
        try await StreamLeader.of(deployment: deployment, natsURL: natsURL, replicas: 3)
    }

    /// The control process whose discoverer holds the lease now.
    func leadingDiscoverer() throws -> String {
        let key = LeaderLease.key(prefix: DeliveryState.prefix(for: redisPrefix), role: "discoverer")
        guard let holder = try RedisConnection(url: redisURL).command(["GET", key]).string,
              let pid = ProcessResources.pid(inProcessName: holder), let name = processes.name(ofPID: pid) else {
            throw CommandFailure("no process of this run holds the discoverer's lease (\(key))")
        }
        return name
    }
}
