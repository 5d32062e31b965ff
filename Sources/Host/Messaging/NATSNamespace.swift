import CNats
import Foundation
import HostCore

/// How one deployment's streams sit on a NATS system it may share with others: their names, their subjects
/// and how many copies JetStream keeps of them. `JetStream` applies it at the libnats boundary, so every
/// role, service and test speaks the names of `Streams` and never sees another deployment's.
///
/// The standard deployment (`batchsender`) keeps the unprefixed names every earlier version made; another
/// deployment `n` has streams `n-email-system`… and subjects `n.sys.batch.process`…, which no stream of
/// another deployment overlaps (JetStream refuses overlapping stream subjects, and a consumer reads one stream).
public struct NATSNamespace: Sendable, Equatable {
    public let deployment: String
    public let replicas: Int

    public init(deployment: DeploymentSettings = DeploymentSettings(), nats: NATSSettings = NATSSettings()) {
        self.deployment = deployment.name
        replicas = nats.replicas
    }

    public static let standard = NATSNamespace()

    private var prefixed: Bool { deployment != DeploymentSettings.standardName }

    /// The stream's name on the server.
    public func stream(_ name: String) -> String { prefixed ? deployment + "-" + name : name }

    /// The subject (or filter) on the server.
    public func subject(_ subject: String) -> String { prefixed ? deployment + "." + subject : subject }

    /// The subject as `Streams` names it, from the one on the server.
    public func logical(_ subject: String) -> String {
        guard prefixed else { return subject }
        let prefix = deployment + "."
        return subject.hasPrefix(prefix) ? String(subject.dropFirst(prefix.count)) : subject
    }
}

/// NATS_URL: one `nats://host:port`, or a comma-separated list of a cluster's servers, of which the client
/// connects to any and fails over to the others (and to those the cluster announces).
public enum NATSServers {
    public static func parse(_ url: String) throws(NATSError) -> [String] {
        let servers = url.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !servers.isEmpty, servers.count <= 16 else { throw NATSError("NATS_URL must list 1 to 16 servers, not \(servers.count)") }
        for server in servers where !(server.hasPrefix("nats://") && server.count > 7) {
            throw NATSError("NATS_URL: every server must be a nats://host:port URL, not \"\(ConnectionURL.redacted(server).prefix(60))\"")
        }
        return servers
    }

    /// NATS_URL with each server's credentials hidden, for an error text.
    public static func redacted(_ url: String) -> String {
        url.split(separator: ",", omittingEmptySubsequences: false)
            .map { ConnectionURL.redacted($0.trimmingCharacters(in: .whitespaces)) }.joined(separator: ",")
    }

    /// Points libnats's options at every server NATS_URL lists.
    static func apply(_ url: String, to options: OpaquePointer) throws(NATSError) {
        let servers = try parse(url)
        let status = withCStringArray(servers) { natsOptions_SetServers(options, $0, Int32(servers.count)) }
        guard status == NATS_OK else { throw NATSError("NATS_URL is not usable: \(String(cString: natsStatus_GetText(status)))") }
    }
}
