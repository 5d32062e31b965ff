import Analytics
import Domain
import Foundation
import HostCore
import Logging
import Messaging
import NIOPosix
@testable import Persistence
import ProviderInstances
import ProviderModel
import Synchronization
import TestSupport
import Testing

/// The event writer against the stack's ClickHouse: a block whose insert landed, whole or in part, without an
/// answer is counted once by every view the API reads, and blocks spilled to disk while ClickHouse was away
/// are sent by the next start.
@Suite("Event writer", .serialized)
struct EventWriterTests {
    /// The real client, except that the first insert's answer is lost (a timeout), after the server wrote the whole
    /// block or, when `cutShort`, after only the batch view took it: ClickHouse stopped part-way through the views.
    final class LostAnswer: HTTPClient, Sendable {
        let inner = CurlHTTPClient()
        let lost = Mutex(false)
        /// What went wrong while the block was written in part: the test fails on it, or it would test a whole landing twice.
        let failures = Mutex<[String]>([])
        let cutShort: Bool
        init(cutShort: Bool) { self.cutShort = cutShort }

        func execute(_ request: PreparedRequest, timeoutMs: Int?) async -> HTTPResult {
            let insert = request.url.contains("query=INSERT")
            let lose = lost.withLock { done in
                defer { if insert { done = true } }
                return insert && !done
            }
            guard lose else { return await inner.execute(request, timeoutMs: timeoutMs) }
            if cutShort {
                // The block as the batch view alone would have taken it: through a table of the events' shape and engine.
                let staging = "cut_short_\(UUID().uuidString.replacingOccurrences(of: "-", with: ""))"
                do {
                    let client = try ClickHouseClient(url: try EventWriterTests.url, http: inner)
                    try await client.execute("CREATE TABLE \(staging) AS \(AnalyticsSchema.events)")
                    try await client.insert(into: staging, jsonEachRow: request.body)
                    try await client.execute(AnalyticsSchema.batchCounts.fill(from: staging))
                    try await client.execute("DROP TABLE \(staging)")
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            } else {
                _ = await inner.execute(request, timeoutMs: timeoutMs)
            }
            return HTTPResult(failure: .timeout, message: "the answer was lost")
        }
    }

    static func events(user: String, batch: String, count: Int) -> [AnalyticsEvent] {
        (0..<count).map {
            AnalyticsEvent(timeMs: SystemClock.nowMilliseconds, userID: user, batchID: batch, recipient: $0, sendConfigID: "c",
                           provider: "resend", type: .sent)
        }
    }

    static func rows(_ client: ClickHouseClient, batch: String) async throws -> Int {
        try await client.rows("SELECT count() AS n FROM email_events FINAL WHERE batch_id = '\(batch)'").first?["n"]?.stringValue
            .flatMap(Int.init) ?? -1
    }

    /// What each read of the API counts as sent for `user`: the batch, the overview, the hourly and the daily series.
    static func counted(_ client: ClickHouseClient, user: String, batch: String) async throws -> [Int] {
        let store = AnalyticsStore(client: client)
        let now = SystemClock.nowMilliseconds / 1000, from = now - 3 * 86_400, to = now + 86_400
        let hourly = try await store.timeseries(userID: user, interval: .hour, fromSec: from, toSec: to, sendConfigID: nil)
        let daily = try await store.timeseries(userID: user, interval: .day, fromSec: from, toSec: to, sendConfigID: nil)
        return [try await store.batch(userID: user, batchID: batch)[.sent],
                try await store.overview(userID: user, fromSec: from, toSec: to, sendConfigID: nil)[.sent],
                hourly.values.reduce(0) { $0 + $1[.sent] }, daily.values.reduce(0) { $0 + $1[.sent] }]
    }

    static func settings(_ change: (inout AnalyticsSettings) -> Void = { _ in }) -> AnalyticsSettings {
        var settings = AnalyticsSettings()
        settings.flushIntervalMs = 50
        settings.spillDir = TestPaths.scratch.appendingPathComponent("spill-\(UUID().uuidString)").path
        change(&settings)
        return settings
    }

    /// The writers' disk threads, for the whole test run.
    static let threads: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        return pool
    }()

    static var url: String { get throws { try StackEnvironment.value("CLICKHOUSE_URL") } }

    @Test("An insert whose answer was lost, after it landed whole or after only the batch view took it, is sent again: the events (FINAL) and every count the API reads hold it once",
          arguments: [false, true])
    func lostAnswerCountedOnce(cutShort: Bool) async throws {
        let threads = Self.threads
        let http = LostAnswer(cutShort: cutShort)
        let client = try ClickHouseClient(url: try Self.url, http: http)
        let writer = EventWriter(client: client, settings: Self.settings(), threads: threads, logger: Logger(label: "test"))
        let user = "writer-test-\(UUID().uuidString.lowercased())", batch = UUID().uuidString.lowercased()
        writer.record(Self.events(user: user, batch: batch, count: 100))
        let running = Task { try await writer.run() }
        // Generous: while every suite starts at once, ClickHouse can take half a minute to answer the first insert.
        try await eventually(timeout: .seconds(120)) { writer.eventsWritten == 100 }
        running.cancel()
        try await running.value
        #expect(try await Self.rows(client, batch: batch) == 100)
        #expect(http.failures.withLock { $0 }.isEmpty)
        #expect(try await Self.counted(client, user: user, batch: batch) == [100, 100, 100, 100])
    }

    @Test("A writer that starts on events written before the counting views existed fills the views with them")
    func writerFillsViews() async throws {
        let url = try Self.url
        let database = "writer_fill_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        let client = try ClickHouseClient(url: url + (url.hasSuffix("/") ? "" : "/") + "?database=\(database)", http: CurlHTTPClient())
        try await client.createDatabase()
        try await client.execute(AnalyticsSchema.createEvents)
        let user = "writer-fill", batch = UUID().uuidString.lowercased()
        var body: [UInt8] = []
        AnalyticsEvent.encode(Self.events(user: user, batch: batch, count: 40), block: "before-the-views", into: &body)
        try await client.insert(into: AnalyticsSchema.events, jsonEachRow: body)

        let writer = EventWriter(client: client, settings: Self.settings(), threads: Self.threads, logger: Logger(label: "test"))
        let running = Task { try await writer.run() }
        try await eventually(timeout: .seconds(120)) { try await Self.counted(client, user: user, batch: batch) == [40, 40, 40, 40] }
        running.cancel()
        try await running.value
        try await client.dropDatabase()
    }

    @Test("Blocks kept on disk while ClickHouse is away are sent by the next writer, and removed")
    func spilledBlocksSentAtNextStart() async throws {
        let threads = Self.threads
        let settings = Self.settings { $0.flushRows = 10; $0.memoryRows = 20 }
        let batch = UUID().uuidString.lowercased()
        // Nothing listens on port 9: every insert fails, memory holds 20 events, the rest goes to disk, and shutdown spills the rest.
        let away = EventWriter(client: try ClickHouseClient(url: "http://127.0.0.1:9/", http: CurlHTTPClient()), settings: settings,
                               threads: threads, logger: Logger(label: "test"))
        let running = Task { try await away.run() }
        // Events keep coming while the writer fails: each block of ten is recorded once the writer has brought its
        // memory back within the bound, so it spills between arrivals, not only at the end.
        for part in stride(from: 0, to: 100, by: 10) {
            away.record(Array(Self.events(user: "writer-test", batch: batch, count: 100)[part..<part + 10]))
            try await eventually("the writer's memory within its 20 events", timeout: .seconds(30), interval: .milliseconds(10)) {
                away.bufferedEvents <= 20
            }
        }
        running.cancel()
        try await running.value
        let files = try FileManager.default.contentsOfDirectory(atPath: settings.spillDir).filter { $0.hasSuffix(".jsonl") }
        #expect(files.count == 10, "ten blocks of ten on disk: \(files)")

        let client = try ClickHouseClient(url: try Self.url, http: CurlHTTPClient())
        let next = EventWriter(client: client, settings: settings, threads: threads, logger: Logger(label: "test"))
        let again = Task { try await next.run() }
        func onDisk() throws -> Int { try FileManager.default.contentsOfDirectory(atPath: settings.spillDir).filter { $0.hasSuffix(".jsonl") }.count }
        // A block's file goes once its insert is answered.
        try await eventually(timeout: .seconds(120)) { try next.eventsWritten == 100 && onDisk() == 0 }
        again.cancel()
        try await again.value
        #expect(try await Self.rows(client, batch: batch) == 100)
    }
}
