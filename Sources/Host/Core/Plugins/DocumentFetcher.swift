import Foundation
import ProviderModel
import Synchronization

/// A fetched document with a stable address, so a plugin can read it during a call.
final class FetchedDocument: @unchecked Sendable {
    let storage: UnsafeMutableBufferPointer<UInt8>

    init(_ bytes: [UInt8]) {
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        _ = buffer.initialize(from: bytes)
        storage = UnsafeMutableBufferPointer(rebasing: buffer[0..<bytes.count])
    }

    deinit {
        storage.baseAddress.map { $0.deallocate() }
    }
}

/// The host's fetch service (host.h `fetch`): only URLs the operator allowed,
/// with the host's timeout, cached; failures remembered for a while so a
/// flood of webhooks cannot become a flood of fetches. Lookups never block;
/// fetches happen between plugin calls.
public final class DocumentFetcher: Sendable {
    enum Lookup {
        case document(FetchedDocument)
        case missing
        case forbidden
        case failed(String)
    }

    private enum Entry {
        case ready(FetchedDocument, expires: ContinuousClock.Instant)
        case failed(String, expires: ContinuousClock.Instant)
    }

    public let policy: FetchPolicy
    private let client: any HTTPClient
    private let cache = Mutex<[String: Entry]>([:])

    public init(policy: FetchPolicy, client: any HTTPClient) {
        self.policy = policy
        self.client = client
    }

    func lookup(_ url: String) -> Lookup {
        guard policy.allows(url) else { return .forbidden }
        let now = ContinuousClock.now
        return cache.withLock { cache in
            switch cache[url] {
            case .ready(let document, let expires) where expires > now: .document(document)
            case .failed(let message, let expires) where expires > now: .failed(message)
            default: .missing
            }
        }
    }

    /// Puts a document known ahead into the cache, as if fetched (fixtures, tests).
    public func store(_ document: [UInt8], for url: String) {
        let entry = Entry.ready(FetchedDocument(document), expires: ContinuousClock.now + .seconds(policy.cacheSeconds))
        cache.withLock { $0[url] = entry }
    }

    /// Fetches `url` into the cache (if allowed), with the policy's timeout.
    public func fetch(_ url: String) async {
        guard policy.allows(url) else { return }
        let result = await get(url)
        let now = ContinuousClock.now
        let entry: Entry
        switch result {
        case .success(let body): entry = .ready(FetchedDocument(body), expires: now + .seconds(policy.cacheSeconds))
        case .failure(let failure): entry = .failed(failure.description, expires: now + .seconds(policy.failureCacheSeconds))
        }
        cache.withLock { $0[url] = entry }
    }

    /// One GET of an allowed URL with the policy's timeout, not cached (a subscription confirmation, say).
    public func get(_ url: String) async -> Result<[UInt8], FetchFailure> {
        guard policy.allows(url) else { return .failure(FetchFailure(description: "\(url) is not on the host's fetch allow-list")) }
        let request = PreparedRequest(method: "GET", url: url, headers: [], body: [], messageIndices: [])
        let result = await client.execute(request, timeoutMs: policy.timeoutMs)
        if result.transportFailure == nil, (200...299).contains(result.status) { return .success(result.body) }
        let reason = result.transportFailure.map { "\($0.rawValue): \(result.transportMessage)" } ?? "HTTP \(result.status)"
        return .failure(FetchFailure(description: "fetching \(url) failed: \(reason)"))
    }
}

public struct FetchFailure: Error, Sendable, CustomStringConvertible {
    public var description: String
}
