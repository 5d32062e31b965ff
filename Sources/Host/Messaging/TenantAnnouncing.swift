/// Announces a tenant's work and makes sure its own queue (consumer) exists, before its chunk jobs are
/// published: what the processor and the sender call, the tenant registry and JetStream behind it.
public protocol TenantAnnouncing: Sendable {
    func announce(userID: String) async throws
}
