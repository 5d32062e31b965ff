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
///
/// Bounded by construction, since the URLs come from requests anyone can send: a URL longer than
/// `maxURLBytes` is refused unread, a document over `maxDocumentBytes` is a failure, the documents and
/// the remembered failures are kept in separate tables of fixed capacity (a flood of novel failing URLs
/// churns only the failures, never evicts a certificate in use), each fetch ends within the policy's
/// timeout (at most `maxTimeoutMs`), and at most `maxFetchesInFlight` run at once: a request for a URL
/// being fetched waits for that fetch, one past the limit stays pending and is answered 503 at once.
public final class DocumentFetcher: Sendable {
    enum Lookup {
        case document(FetchedDocument)
        case missing
        case forbidden
        case failed(String)
    }

    /// SNS's certificate URLs are about 100 bytes; nothing a provider signs with is near this.
    public static let maxURLBytes = 2_048
    /// A certificate is a few KB; a few URLs are in use at a time.
    public static let maxDocumentBytes = 262_144
    public static let documentCapacity = 64
    public static let failureCapacity = 4_096
    public static let maxFetchesInFlight = 32
    /// However the operator set `[fetch] timeout_ms` (0 would be no timeout at all to libcurl).
    public static let maxTimeoutMs = 30_000

    private struct Tables {
        var documents: [String: (FetchedDocument, expires: ContinuousClock.Instant)] = [:]
        var failures: [String: (String, expires: ContinuousClock.Instant)] = [:]
        /// Each URL being fetched, with the fetches of the same URL that wait for it.
        var inFlight: [String: [CheckedContinuation<Bool, Never>]] = [:]
    }

    public let policy: FetchPolicy
    private let client: any HTTPClient
    private let tables = Mutex(Tables())

    public init(policy: FetchPolicy, client: any HTTPClient) {
        self.policy = policy
        self.client = client
    }

    /// A fetcher with its own libcurl client: the operator's `[http]` settings, but a download stops at
    /// `maxDocumentBytes` rather than `[http] max_response_bytes` (8 MB by default), so that the fetches in
    /// flight hold at most `maxFetchesInFlight` × 256 KB between them.
    public convenience init(policy: FetchPolicy, http: HTTPClientSettings, outbound: OutboundPolicy?) {
        self.init(policy: policy, client: CurlHTTPClient(settings: Self.clientSettings(http), policy: outbound))
    }

    /// `settings` with responses capped at the document limit.
    public static func clientSettings(_ settings: HTTPClientSettings) -> HTTPClientSettings {
        var capped = settings
        capped.maxResponseBytes = min(settings.maxResponseBytes, maxDocumentBytes)
        return capped
    }

    /// Whether `url` may be fetched at all: short enough, then allowed by the operator's patterns
    /// (checked in that order: the pattern match walks the URL).
    public func allows(_ url: String) -> Bool {
        url.utf8.count <= Self.maxURLBytes && policy.allows(url)
    }

    func lookup(_ url: String) -> Lookup {
        guard allows(url) else { return .forbidden }
        let now = ContinuousClock.now
        return tables.withLock { tables in
            if let entry = tables.documents[url], entry.expires > now { return .document(entry.0) }
            if let entry = tables.failures[url], entry.expires > now { return .failed(entry.0) }
            return .missing
        }
    }

    /// Why the last fetch of `url` failed, while that failure is remembered; nil otherwise.
    public func failure(for url: String) -> String? {
        if case .failed(let message) = lookup(url) { return message }
        return nil
    }

    /// How many entries the cache holds now (documents and remembered failures): a test's view of its bound.
    var cachedCount: Int {
        tables.withLock { $0.documents.count + $0.failures.count }
    }

    /// Puts a document known ahead into the cache, as if fetched (fixtures, tests).
    public func store(_ document: [UInt8], for url: String) {
        let expires = ContinuousClock.now + .seconds(policy.cacheSeconds)
        tables.withLock { Self.insert(FetchedDocument(document), expires: expires, for: url, into: &$0) }
    }

    /// Fetches `url` into the cache (if allowed), with the policy's timeout. When the same URL is being
    /// fetched already, returns once that fetch ends; when `maxFetchesInFlight` fetches run, at once.
    public func fetch(_ url: String) async {
        guard allows(url) else { return }
        let started = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let start: Bool? = tables.withLock { tables in
                if tables.inFlight[url] != nil {
                    tables.inFlight[url]?.append(continuation)
                    return nil
                }
                guard tables.inFlight.count < Self.maxFetchesInFlight else { return false }
                tables.inFlight[url] = []
                return true
            }
            if let start { continuation.resume(returning: start) }
        }
        guard started else { return }
        let result = await get(url)
        let now = ContinuousClock.now
        let cacheSeconds = policy.cacheSeconds, failureSeconds = policy.failureCacheSeconds
        let waiting = tables.withLock { tables in
            defer { tables.inFlight[url] = nil }
            switch result {
            case .success(let body): Self.insert(FetchedDocument(body), expires: now + .seconds(cacheSeconds), for: url, into: &tables)
            case .failure(let failure):
                tables.documents[url] = nil
                if tables.failures.count >= Self.failureCapacity, tables.failures[url] == nil {
                    Self.makeRoom(in: &tables.failures, now: now)
                }
                tables.failures[url] = (failure.description, expires: now + .seconds(failureSeconds))
            }
            return tables.inFlight[url] ?? []
        }
        for waiter in waiting { waiter.resume(returning: false) }
    }

    private static func insert(_ document: FetchedDocument, expires: ContinuousClock.Instant, for url: String, into tables: inout Tables) {
        tables.failures[url] = nil
        if tables.documents.count >= documentCapacity, tables.documents[url] == nil {
            makeRoom(in: &tables.documents, now: ContinuousClock.now)
        }
        tables.documents[url] = (document, expires: expires)
    }

    /// Drops the expired entries, and when that leaves the table over three quarters full (a flood of live
    /// ones: which go matters less than that the table cannot grow), a quarter of it, so the sweep runs at
    /// most once every quarter of the capacity's inserts.
    private static func makeRoom<Value>(in table: inout [String: (Value, expires: ContinuousClock.Instant)], now: ContinuousClock.Instant) {
        let capacity = table.count
        table = table.filter { $0.value.expires > now }
        let doomed = Array(table.keys.prefix(max(0, table.count - capacity * 3 / 4)))
        for key in doomed { table[key] = nil }
    }

    /// One GET of an allowed URL with the policy's timeout, not cached (a subscription confirmation, say).
    public func get(_ url: String) async -> Result<[UInt8], FetchFailure> {
        guard allows(url) else {
            return .failure(FetchFailure(description: "\(url.prefix(200)) is not on the host's fetch allow-list (or is over \(Self.maxURLBytes) bytes)"))
        }
        let request = PreparedRequest(method: "GET", url: url, headers: [], body: [], messageIndices: [])
        let result = await client.execute(request, timeoutMs: min(max(policy.timeoutMs, 1), Self.maxTimeoutMs))
        if result.transportFailure == nil, result.body.count > Self.maxDocumentBytes {
            return .failure(FetchFailure(description: "fetching \(url.prefix(200)) failed: the document is over \(Self.maxDocumentBytes) bytes"))
        }
        if result.transportFailure == nil, (200...299).contains(result.status) { return .success(result.body) }
        let reason = result.transportFailure.map { "\($0.rawValue): \(result.transportMessage)" } ?? "HTTP \(result.status)"
        return .failure(FetchFailure(description: "fetching \(url.prefix(200)) failed: \(reason)"))
    }
}

public struct FetchFailure: Error, Sendable, CustomStringConvertible {
    public var description: String
}
