import App
import Foundation
import HostCore
import Messaging

/// The cluster node that leads a deployment's work stream now: the one a fault kills to lose the leader.
enum StreamLeader {
    static func of(deployment: String, natsURL: String, replicas: Int) async throws -> String {
        let namespace = NATSNamespace(deployment: DeploymentSettings(name: deployment), nats: NATSSettings(replicas: replicas))
        let placement = try await Task.detached { try JetStream(url: natsURL, namespace: namespace).placement(of: Streams.system) }.value
        guard let leader = placement.leader else { throw CommandFailure("the work stream has no leader: is NATS_URL the cluster's?") }
        return leader
    }
}
