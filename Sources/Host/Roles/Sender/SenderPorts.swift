import Persistence
import ProviderModel
import ProviderInstances

// What the sender role reads and writes, each a small protocol: Redis, PostgreSQL and the send-config
// cache in a process, fakes in a unit test.

/// The claims on recipients and their outcomes: the truth of "already sent".
public protocol ClaimBook: Sendable {
    func claim(_ chunks: [(batchID: String, positions: [Int])], nowMs: Int64, holdMs: Int64) async throws -> [[DeliveryState.Claim]]
    func record(_ entries: [String: [DeliveryState.Entry]], nowMs: Int64) async throws
    /// Extends claims held until one of `from` to `to` while their round is in flight.
    func extend(_ chunks: [(batchID: String, positions: [Int])], from: [Int64], to: Int64) async throws
    /// Writes down each request to a provider that batches (batch → positions in the order sent) before it is sent.
    func keepTogether(_ requests: [String: [DeliveryState.KeptRequest]]) async throws
    /// When each batch's chunks handed back are due again (batch → Unix ms): stuck-batch recovery reads it as liveness.
    func expectBack(_ dues: [String: Int64]) async throws
}

/// The send limits: the levels a send-config's messages pass, and what each chunk may send now.
public protocol RateLimiting: Sendable {
    func levels(sendConfigID: String, provider: String, managed: Bool, rateLimit: Int?) -> [RateBuckets.Level]
    func take(_ requests: [RateBuckets.Request]) async throws -> [RateBuckets.Grant]
}

/// A send-config's route (plugin instance, provider, limits), or why there is none.
public protocol RouteResolving: Sendable {
    func route(sendConfigID: String) async throws -> Result<SendConfigInstances.Route, SendConfigProblem>
}

/// The recipient rows the sender writes after Redis, and the tenants it finds work for at start.
public protocol OutcomeBooks: Sendable {
    func write(_ updates: [String: [BatchLedger.RowUpdate]]) async throws -> [String: [BatchLedger.Written]]
    func tenantsWithBatchesInProgress() async throws -> [String]
}

/// The tenants with queues to serve, with when each was last announced.
public protocol TenantDirectory: Sendable {
    func tenants() async throws -> [(userID: String, announcedMs: Int64)]
}

/// The stored files a batch's emails carry (PostgreSQL in a process), read by the sender through `AttachmentCache`.
public protocol AttachmentSource: Sendable {
    func attachmentIDs(batchID: String) async throws -> [String]
    func attachmentContents(ids: [String]) async throws -> [String: Attachment]
}

/// A batch's history of the send-configs its messages went through (PostgreSQL in a process).
public protocol RouteBook: Sendable {
    /// Records that the batch's messages go through `via` now (nil: its own config); whether that was a change.
    func switchRoute(batchID: String, via: String?, detail: String) async throws -> Bool
}
