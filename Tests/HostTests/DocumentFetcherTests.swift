@testable import HostCore
import Foundation
import ProviderModel
import Synchronization
import TestSupport
import Testing

/// The fetch service takes its URLs from requests anyone can send (SNS's SigningCertURL): whatever
/// comes, its cache, its fetches and what it reads stay bounded.
@Suite("Document fetcher bounds")
struct DocumentFetcherTests {
    /// Answers every GET at once with `status`, or holds each until `release` when `holding`.
    final class FakeClient: HTTPClient, Sendable {
        let calls = Atomic<Int>(0)
        let status: Int
        let holding: Bool
        private let released = Atomic<Bool>(false)
        private let held = Mutex<[CheckedContinuation<Void, Never>]>([])

        init(status: Int, holding: Bool = false) {
            self.status = status
            self.holding = holding
        }

        func execute(_ request: PreparedRequest, timeoutMs: Int?) async -> HTTPResult {
            calls.add(1, ordering: .relaxed)
            if holding, !released.load(ordering: .relaxed) {
                await withCheckedContinuation { continuation in
                    // Released meanwhile: not held (the release has already run).
                    let late = held.withLock { held in
                        if released.load(ordering: .relaxed) { return true }
                        held.append(continuation)
                        return false
                    }
                    if late { continuation.resume() }
                }
            }
            return HTTPResult(status: status, body: Array("-----BEGIN CERTIFICATE-----".utf8))
        }

        var heldCount: Int { held.withLock { $0.count } }

        func release() {
            let waiting = held.withLock { held in
                released.store(true, ordering: .relaxed)
                defer { held = [] }
                return held
            }
            for continuation in waiting { continuation.resume() }
        }
    }

    /// How many fetches have returned, counted from the tasks that made them.
    final class Returned: Sendable {
        let count = Atomic<Int>(0)
    }

    static let policy = FetchPolicy(allow: ["http://127.0.0.1:*/sns/*"])

    @Test("20,000 distinct failing URLs leave at most the failure table's capacity, and a stored certificate stays")
    func failuresBounded() async {
        let fetcher = DocumentFetcher(policy: Self.policy, client: FakeClient(status: 404))
        let certificate = "http://127.0.0.1:1/sns/real.pem"
        fetcher.store(Array("pem".utf8), for: certificate)
        for index in 0..<20_000 { await fetcher.fetch("http://127.0.0.1:1/sns/forged-\(index).pem") }
        #expect(fetcher.cachedCount <= DocumentFetcher.failureCapacity + 1, "\(fetcher.cachedCount) entries")
        guard case .document = fetcher.lookup(certificate) else { Issue.record("the stored certificate was evicted by failures"); return }
        #expect(fetcher.failure(for: "http://127.0.0.1:1/sns/forged-19999.pem") != nil, "the latest failure is remembered")
    }

    @Test("a document over the size limit is a failure, not kept")
    func largeDocumentRefused() async {
        final class Large: HTTPClient, Sendable {
            func execute(_ request: PreparedRequest, timeoutMs: Int?) async -> HTTPResult {
                HTTPResult(status: 200, body: Array(repeating: 65, count: DocumentFetcher.maxDocumentBytes + 1))
            }
        }
        let fetcher = DocumentFetcher(policy: Self.policy, client: Large())
        await fetcher.fetch("http://127.0.0.1:1/sns/large.pem")
        #expect(fetcher.failure(for: "http://127.0.0.1:1/sns/large.pem")?.contains("over") == true)
    }

    @Test("the fetcher's own client stops a download at the document limit, not at [http] max_response_bytes")
    func downloadCappedAtDocumentLimit() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fetcher-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(repeating: 65, count: 4 << 20).write(to: folder.appendingPathComponent("large.pem"))
        let server = try TestHTTPServer(files: folder.path)
        let fetcher = DocumentFetcher(policy: FetchPolicy(allow: ["http://127.0.0.1:*/files/*"]), http: HTTPClientSettings(), outbound: nil)
        let url = server.url("/files/large.pem")
        await fetcher.fetch(url)
        let failure = try #require(fetcher.failure(for: url), "a 4 MB document was kept")
        #expect(failure.contains("larger than \(DocumentFetcher.maxDocumentBytes) bytes"), "the download went past the document limit: \(failure)")
        #expect(DocumentFetcher.clientSettings(HTTPClientSettings(maxResponseBytes: 1_024)).maxResponseBytes == 1_024, "a smaller operator limit stays")
    }

    @Test("documents fetched from 1,000 distinct URLs leave at most the document table's capacity")
    func documentsBounded() async {
        let fetcher = DocumentFetcher(policy: Self.policy, client: FakeClient(status: 200))
        for index in 0..<1_000 { await fetcher.fetch("http://127.0.0.1:1/sns/\(index).pem") }
        #expect(fetcher.cachedCount <= DocumentFetcher.documentCapacity, "\(fetcher.cachedCount) entries")
    }

    @Test("a URL over the length limit is refused unread, though the patterns would allow it")
    func longURLRefused() async {
        let client = FakeClient(status: 200)
        let fetcher = DocumentFetcher(policy: Self.policy, client: client)
        let long = "http://127.0.0.1:1/sns/" + String(repeating: "a", count: 100_000) + ".pem"
        #expect(Self.policy.allows("http://127.0.0.1:1/sns/" + String(repeating: "a", count: 1_000) + ".pem"))
        guard case .forbidden = fetcher.lookup(long) else { Issue.record("a 100 KB URL was not refused"); return }
        await fetcher.fetch(long)
        if case .success = await fetcher.get(long) { Issue.record("a 100 KB URL was fetched") }
        #expect(client.calls.load(ordering: .relaxed) == 0)
        #expect(fetcher.cachedCount == 0)
    }

    @Test("at most maxFetchesInFlight fetches run at once; the rest return at once, fetching nothing; a URL being fetched is fetched once")
    func fetchesInFlightBounded() async throws {
        let client = FakeClient(status: 200, holding: true)
        let fetcher = DocumentFetcher(policy: Self.policy, client: client)
        let returned = Returned()
        let bound = DocumentFetcher.maxFetchesInFlight
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask {
                    await fetcher.fetch("http://127.0.0.1:1/sns/slow-\(index).pem")
                    returned.count.add(1, ordering: .relaxed)
                }
            }
            // The same URL twice is one fetch: the second waits for the first.
            group.addTask {
                await fetcher.fetch("http://127.0.0.1:1/sns/slow-0.pem")
                returned.count.add(1, ordering: .relaxed)
            }
            // Settled once the bound's fetches are held and the other calls have returned (all but one of them when
            // slow-0 is held, as its twin waits for it): no call is left that could still start a fetch.
            // The deadline is generous because the whole suite shares the cooperative pool (a CI run saw 167 of 168 back
            // after 10 s while 350 tests started): the held fetches never end before `release`, so a call that waits
            // for them fails at any deadline.
            do {
                try await eventually("\(bound) fetches held, the rest returned", timeout: .seconds(60), interval: .milliseconds(10)) {
                    client.heldCount >= bound && returned.count.load(ordering: .relaxed) >= 200 - bound
                }
            } catch {
                Issue.record("\(error): \(client.heldCount) held, \(returned.count.load(ordering: .relaxed)) returned")
            }
            #expect(client.calls.load(ordering: .relaxed) == bound)
            client.release()
        }
    }
}
