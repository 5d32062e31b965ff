import Persistence
import Domain
import Foundation
import HostCore
import Logging
import Metrics
import NIOPosix
import ProviderModel
import ServiceLifecycle
import Synchronization

/// The one buffer every role writes its events through into ClickHouse: blocks of `flush_rows`
/// events or `flush_interval_ms`, whichever comes first, each one JSONEachRow insert.
///
/// Nothing is lost while ClickHouse is away: blocks wait in memory up to `memory_rows`, then on disk,
/// and are sent again with a growing pause. A block whose insert failed is sent again whole, even if it
/// may have landed in part: the counting views read a block sent twice once (see `AnalyticsSchema`).
/// At shutdown, what cannot be sent is written to disk for the next start.
/// Events still in memory when the process is killed are lost: at most one interval's worth.
public final class EventWriter: Service, Sendable {
    struct Block {
        var id: String
        var rows: Int
        var body: [UInt8]
    }

    struct State {
        var currentID = EventWriter.newBlockID()
        var current: [UInt8] = []
        var currentRows = 0
        var startedAtMs: Int64 = 0
        var blocks: [Block] = []
        var memoryRows = 0
    }

    private let client: ClickHouseClient?
    private let settings: AnalyticsSettings
    private let spill: EventSpill
    private let threads: NIOThreadPool
    private let logger: Logger
    private let state = Mutex(State())
    private let written = Atomic<Int>(0)

    private let bufferGauge = Gauge(label: "analytics_buffer_events")
    private let spilledGauge = Gauge(label: "analytics_spilled_events")
    private let writtenCounter = Counter(label: "analytics_events_written_total")
    private let failureCounter = Counter(label: "analytics_flush_failures_total")

    /// Without a client (no `CLICKHOUSE_URL`) events are not kept.
    public init(client: ClickHouseClient?, settings: AnalyticsSettings, threads: NIOThreadPool, logger: Logger) {
        self.client = client
        self.settings = settings
        self.spill = EventSpill(directory: settings.spillDir)
        self.threads = threads
        self.logger = logger.role("analytics-writer")
    }

    public var enabled: Bool { client != nil }

    /// Events written to ClickHouse since start.
    public var eventsWritten: Int { written.load(ordering: .relaxed) }

    /// Events held in memory now (not yet sent, not on disk).
    public var bufferedEvents: Int { state.withLock { $0.memoryRows } }

    /// Takes events; never blocks on ClickHouse or the disk.
    public func record(_ events: [AnalyticsEvent]) {
        guard client != nil, !events.isEmpty else { return }
        var remaining = events[...]
        while !remaining.isEmpty {
            let (id, room) = state.withLock { ($0.currentID, settings.flushRows - $0.currentRows) }
            // A thousand events at a time, so that a block passes `maxBlockBytes` by at most a thousand events' bytes.
            let part = remaining.prefix(max(1, min(room, 1_000)))
            var bytes: [UInt8] = []
            bytes.reserveCapacity(part.count * 300)
            AnalyticsEvent.encode(part, block: id, into: &bytes)
            let taken = state.withLock { state -> Bool in
                // A block cut meanwhile has a new id: encode again for it.
                guard state.currentID == id else { return false }
                if state.currentRows == 0 { state.startedAtMs = SystemClock.nowMilliseconds }
                state.current += bytes
                state.currentRows += part.count
                state.memoryRows += part.count
                if state.currentRows >= settings.flushRows || state.current.count >= Self.maxBlockBytes { Self.cut(&state) }
                return true
            }
            if taken { remaining = remaining.dropFirst(part.count) }
        }
    }

    private static func cut(_ state: inout State) {
        guard state.currentRows > 0 else { return }
        state.blocks.append(Block(id: state.currentID, rows: state.currentRows, body: state.current))
        state.currentID = newBlockID()
        state.current = []
        state.currentRows = 0
    }

    static func newBlockID() -> String { UUID().uuidString.lowercased() }

    /// A block is cut once it passes this size, whatever its rows. A server newer than 18.16 parses a body in pieces and
    /// joins them again up to `min_insert_block_size_bytes` (256 MiB) before its views see them: a block well under that
    /// reaches each view whole, as `AnalyticsSchema` needs.
    static let maxBlockBytes = 64 << 20

    public func run() async throws {
        guard let client else {
            // Nothing to write, but a service that ends early stops its group: wait for the shutdown.
            try? await gracefulShutdown()
            return
        }
        // Filling the counting views reads every event once, apart from writing, which it must not hold up. It starts
        // once the tables are made (two makers at once can trip over each other's DDL). ClickHouse carries an INSERT …
        // SELECT through even when its client goes, so shutdown does not wait for it either: the next start goes on.
        var filling: Task<Void, Never>?
        defer { filling?.cancel() }
        var schemaReady = false
        var pauseMs: Int64 = 500, nextTryMs: Int64 = 0
        var spilled = (try? await threads.runIfActive { [spill] in spill.list() }) ?? []
        spilledGauge.record(spilled.reduce(0) { $0 + $1.rows })
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let now = SystemClock.nowMilliseconds
            state.withLock { state in
                if state.currentRows > 0, now - state.startedAtMs >= settings.flushIntervalMs { Self.cut(&state) }
            }
            if now >= nextTryMs {
                do {
                    if !schemaReady {
                        try await AnalyticsSchema.create(client)
                        schemaReady = true
                        filling = Task { [logger] in await Self.fillViews(client, logger: logger) }
                    }
                    try await sendSpilled(&spilled, client: client)
                    try await sendBlocks(client: client, limit: Int.max)
                    pauseMs = 500
                } catch {
                    failureCounter.increment()
                    nextTryMs = SystemClock.nowMilliseconds + pauseMs
                    logger.warning("analytics events wait for ClickHouse", metadata: ["error": "\(error)", "retryInMs": "\(pauseMs)"])
                    pauseMs = min(pauseMs * 2, 30_000)
                }
            }
            try? await spillOverflow(into: &spilled)
            bufferGauge.record(bufferedEvents)
            spilledGauge.record(spilled.reduce(0) { $0 + $1.rows })
            let waiting = state.withLock { !$0.blocks.isEmpty }
            await SystemClock().sleep(milliseconds: waiting && now >= nextTryMs ? 5 : 50)
        }
        await drain(client: client, schemaReady: schemaReady)
    }

    private static func fillViews(_ client: ClickHouseClient, logger: Logger) async {
        let claimant = "\(ProcessInfo.processInfo.hostName) \(getpid()) \(UUID().uuidString.prefix(8))"
        var pauseMs = 1_000
        while !Task.isCancelled {
            do {
                // The server's limit covers the reading, not the writing after it: a minute more before giving up.
                if try await AnalyticsSchema.fillViews(client.timingOut(afterMs: AnalyticsSchema.fillSeconds * 1000 + 60_000), claimant: claimant) {
                    logger.info("analytics counting views filled with the events written before them")
                }
                return
            } catch is CancellationError {
                return
            } catch let error as AnalyticsSchema.FillError {
                logger.info("analytics counting views: \(error)")
                try? await Task.sleep(for: .seconds(60))
            } catch {
                logger.warning("analytics counting views not filled yet", metadata: ["error": "\(error)", "retryInMs": "\(pauseMs)"])
                try? await Task.sleep(for: .milliseconds(pauseMs))
                pauseMs = min(pauseMs * 2, 60_000)
            }
        }
    }

    /// At shutdown: one more try for everything in memory, then the rest to disk.
    private func drain(client: ClickHouseClient, schemaReady: Bool) async {
        state.withLock { Self.cut(&$0) }
        // A stop has a short grace: what does not go at the usual pace goes to disk.
        patienceMs.withLock { $0 = 0 }
        do {
            if !schemaReady { try await AnalyticsSchema.create(client) }
            try await sendBlocks(client: client, limit: Int.max)
        } catch {
            logger.warning("analytics events kept on disk for the next start", metadata: ["error": "\(error)"])
        }
        let rest = state.withLock { state -> [Block] in
            defer { state.blocks = []; state.memoryRows = 0 }
            return state.blocks
        }
        for block in rest {
            do { try spill.save(id: block.id, body: block.body) } catch {
                logger.error("analytics events lost: they could not be written to disk", metadata: ["rows": "\(block.rows)", "error": "\(error)"])
            }
        }
    }

    /// Sends the blocks in memory, oldest first, until one fails (it stays).
    private func sendBlocks(client: ClickHouseClient, limit: Int) async throws {
        var sent = 0
        while sent < limit, let block = state.withLock({ $0.blocks.first }) {
            try await insert(rows: block.rows, body: block.body, client: client)
            dropFirst(block)
            sent += 1
        }
    }

    /// How long the next insert may take (0: `insert_timeout_ms`). An insert that timed out may land all the same, and
    /// sending it again with the same patience could time out for ever, each copy landing (counted once, but a copy in
    /// the table and every view): so each timeout doubles it, up to a minute (the loop waits on an insert, so it cannot
    /// wait long), and each insert that succeeds halves it again.
    private let patienceMs = Mutex(0)

    /// Sends the blocks that wait on disk, oldest first.
    private func sendSpilled(_ spilled: inout [EventSpill.Stored], client: ClickHouseClient) async throws {
        while let block = spilled.first {
            let body = try await threads.runIfActive { [spill] in try spill.read(block) }
            try await insert(rows: block.rows, body: body, client: client)
            try await threads.runIfActive { [spill] in spill.remove(block) }
            spilled.removeFirst()
        }
    }

    private func insert(rows: Int, body: [UInt8], client: ClickHouseClient) async throws(ClickHouseError) {
        let base = client.timeoutMs
        let patience = patienceMs.withLock { max($0, base) }
        do {
            try await client.timingOut(afterMs: patience).insert(into: AnalyticsSchema.events, jsonEachRow: body)
            patienceMs.withLock { $0 = patience / 2 > base ? patience / 2 : 0 }
        } catch {
            if error.timedOut { patienceMs.withLock { $0 = min(patience * 2, max(base, 60_000)) } }
            throw error
        }
        written.add(rows, ordering: .relaxed)
        writtenCounter.increment(by: rows)
    }

    /// The oldest block is written (or on disk): memory no longer holds it.
    private func dropFirst(_ block: Block) {
        state.withLock { state in
            guard state.blocks.first?.id == block.id else { return }
            state.blocks.removeFirst()
            state.memoryRows -= block.rows
        }
    }

    /// Keeps memory under `memory_rows`: the oldest blocks go to disk.
    private func spillOverflow(into spilled: inout [EventSpill.Stored]) async throws {
        while true {
            let block = state.withLock { state -> Block? in
                guard state.memoryRows > settings.memoryRows, !state.blocks.isEmpty else { return nil }
                return state.blocks.first
            }
            guard let block else { return }
            let stored = try await threads.runIfActive { [spill] in
                try spill.save(id: block.id, body: block.body, rows: block.rows)
            }
            dropFirst(block)
            spilled.append(stored)
        }
    }
}
