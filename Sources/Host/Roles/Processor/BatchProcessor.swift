import Analytics
import Domain
import Foundation
import HostCore
import Logging
import Messaging
import Persistence
import ProviderInstances
import ProviderModel
import ServiceLifecycle
import Synchronization
import Templating

/// The batch processor role: takes batch jobs, pages the batch's recipients by
/// position, renders each one's message, and publishes chunk jobs sized to the
/// plugin's batch. The cursor moves (in PostgreSQL) only after a page's chunks
/// are acknowledged by JetStream, so a processor killed mid-batch resumes at the
/// page it was on, and the page's chunks, published again under the same ids,
/// are dropped by JetStream as duplicates.
public struct BatchProcessor: Service {
    let jobs: ConsumerLoop
    let bus: MessageBus
    let books: any ExpansionBooks
    let state: any ExpansionState
    let instances: any SendConfigResolving
    let tenants: any TenantAnnouncing
    let events: any EventRecording
    let clock: any WallClock
    let settings: PipelineSettings
    let logger: Logger

    public init(jobs: ConsumerLoop, bus: MessageBus, books: any ExpansionBooks, state: any ExpansionState, instances: any SendConfigResolving,
                tenants: any TenantAnnouncing, events: any EventRecording, clock: any WallClock, settings: PipelineSettings, logger: Logger) {
        self.jobs = jobs
        self.bus = bus
        self.books = books
        self.state = state
        self.instances = instances
        self.tenants = tenants
        self.events = events
        self.clock = clock
        self.settings = settings
        self.logger = logger.role("processor")
    }

    /// Expands up to `processorConcurrency` batches at once, page by page, so that a small batch queued
    /// behind a large one is not held until the large one is expanded.
    public func run() async throws {
        let inFlight = InFlight()
        let limit = settings.processorConcurrency
        await withDiscardingTaskGroup { group in
            await jobs.run(size: { limit - inFlight.count }, timeoutMs: 500) { round in
                for job in round {
                    inFlight.change(by: 1)
                    group.addTask {
                        await handle(job)
                        inFlight.change(by: -1)
                    }
                }
            }
        }
    }

    /// A batch this large has its statistics taken before it is sent (half a second, against minutes of slow
    /// writes), once for the batches that start together.
    static let analyzeFrom = 10_000
    let analyzed = Every(milliseconds: 10_000)

    func handle(_ job: ReceivedMessage) async {
        let batchID = String(decoding: job.data, as: UTF8.self)
        do {
            let finished = try await expand(batchID: batchID, job: job)
            try await bus.blocking { finished ? try job.ack() : try job.nak(delayMs: 500) }
        } catch {
            logger.warning("batch expansion paused; the job comes back", metadata: ["batch": "\(batchID)", "error": "\(error)"])
            try? await bus.blocking { try job.nak(delayMs: 2_000) }
        }
    }

    /// The file bytes a chunk's requests may hold at once: every recipient's request carries the files again,
    /// base64-encoded, so a chunk of 100 emails with 10 MiB of files would be 1.3 GB in one sender.
    static let attachmentBytesPerChunk = 32 << 20

    /// Recipients per chunk: what one request takes (or `singleSendChunk` for a one-message provider), fewer when
    /// the batch's files would make the chunk's requests too large. The same for every expansion of a batch, so
    /// a restarted one cuts the same windows.
    static func chunkSize(maxBatch: Int, singleSendChunk: Int, attachmentBytes: Int) -> Int {
        let size = maxBatch > 1 ? maxBatch : singleSendChunk
        guard attachmentBytes > 0 else { return size }
        return max(1, min(size, attachmentBytesPerChunk / attachmentBytes))
    }

    /// True when the job is done with (expanded, or nothing to do); false to hand it back (shutting down,
    /// or the discoverer, which publishes before it marks the batch processing, has not marked it yet).
    func expand(batchID: String, job: ReceivedMessage) async throws -> Bool {
        guard UUID(uuidString: batchID) != nil, let plan = try await books.plan(batchID: batchID) else {
            logger.warning("batch job for no batch", metadata: ["batch": "\(batchID.prefix(64))"])
            return true
        }
        let status = plan.batchStatus
        if status == .queued { return false }
        guard status == .processing, !plan.expanded else { return true }
        let instance: PluginInstance
        switch try await instances.instance(sendConfigID: plan.sendConfigID) {
        case .failure(let problem):
            logger.error("batch cannot be sent", metadata: ["batch": "\(batchID)", "reason": "\(problem)"])
            let failed = try await books.fail(batchID: batchID, reason: problem.description)
            events.record(failed.map { plan.event($0, .failed, reason: problem.description, atMs: clock.nowMilliseconds) })
            return true
        case .success(let made): instance = made
        }
        let template: BatchTemplate
        do {
            template = try BatchTemplate(payloadJSON: plan.payloadJSON, defaultsJSON: plan.defaultsJSON,
                                         channel: Channel(rawValue: plan.channel) ?? .email)
        } catch {
            let failed = try await books.fail(batchID: batchID, reason: error.description)
            events.record(failed.map { plan.event($0, .failed, reason: error.description, atMs: clock.nowMilliseconds) })
            return true
        }
        let maxBatch = instance.plugin.descriptor.maxBatch
        let chunkSize = Self.chunkSize(maxBatch: maxBatch, singleSendChunk: settings.singleSendChunk, attachmentBytes: plan.attachmentBytes)
        try await state.activate(batchID)
        try await tenants.announce(userID: plan.userID)
        if plan.cursor == 0, plan.recipientCount >= Self.analyzeFrom, analyzed.due(clock.nowMilliseconds) {
            try await books.analyzeRecipients()
        }
        var cursor = plan.cursor
        let subject = Streams.tenantSubject(userID: plan.userID)
        // The next page is read while this one is rendered, published and committed.
        let books = self.books, pageSize = settings.pageSize, userID = plan.userID
        func read(after position: Int) -> Task<[BatchLedger.PageRow], any Error> {
            Task { try await books.page(batchID: batchID, userID: userID, after: position, limit: pageSize) }
        }
        var nextPage = read(after: cursor)
        defer { nextPage.cancel() }
        while true {
            let rows = try await nextPage.value
            guard let last = rows.last else {
                try await books.finishExpansion(batchID: batchID)
                logger.info("batch expanded", metadata: ["batch": "\(batchID)"])
                return true
            }
            nextPage = read(after: last.position)
            // A chunk is a window of `chunkSize` rows of the page, whatever their status, named after the window's
            // first row: an expansion started over (stuck-batch recovery, a processor replaced) cuts the same windows
            // and publishes what still waits in each under the same id, which JetStream drops while the first is
            // remembered, rather than ids shifted by what was decided since, which it would store beside the first.
            // A retry of the batch's failed recipients is a new send: its windows carry the retry's number.
            var chunks: [(id: String, job: ChunkJob)] = []
            var current: [ChunkJob.Recipient] = []
            var window = rows[0].position
            var decided: [BatchLedger.RowUpdate] = []
            var entries: [DeliveryState.Entry] = []
            func flush() {
                guard !current.isEmpty else { return }
                var job = ChunkJob(batchID: batchID, userID: plan.userID, sendConfigID: plan.sendConfigID, common: template.common, recipients: current)
                // Bulk email offers one-click unsubscribe (RFC 8058); a message recovered through here keeps its request's choice.
                job.listUnsubscribe = plan.listUnsubscribe
                job.attachmentCount = plan.attachmentCount
                chunks.append(("\(batchID):\(window)" + (plan.retryRound > 0 ? ":r\(plan.retryRound)" : ""), job))
                current.removeAll(keepingCapacity: true)
            }
            for (index, row) in rows.enumerated() {
                if index % chunkSize == 0 {
                    flush()
                    window = row.position
                }
                guard row.recipientStatus?.isWaiting == true else { continue }
                if row.suppressedNow {
                    decided.append(.init(position: row.position, status: .suppressed, lastError: "the address was suppressed after upload", attempts: 0))
                    entries.append(.final(position: row.position, .suppressed))
                    continue
                }
                switch template.render(position: row.position, address: row.address, variablesJSON: row.variablesJSON) {
                case .failure(let problem):
                    decided.append(.init(position: row.position, status: .failed, lastError: problem.description, attempts: 0))
                    entries.append(.final(position: row.position, .failed(reason: problem.description)))
                case .success(let recipient):
                    current.append(recipient)
                }
            }
            flush()
            let messages = chunks.map { OutgoingMessage(subject: subject, id: $0.id, data: $0.job.encoded()) }
            try await bus.publish(messages)
            try await state.record([batchID: entries], nowMs: clock.nowMilliseconds)
            guard let written = try await books.commitPage(batchID: batchID, from: cursor, to: last.position, decided: decided) else {
                logger.info("batch expansion stopped: the batch is no longer processing here", metadata: ["batch": "\(batchID)"])
                return true
            }
            // The page's cursor moved once: its recipients are counted once, however often the page was tried.
            let now = clock.nowMilliseconds
            // A chunk's queued recipients are one event, counted.
            var events = chunks.compactMap { chunk in
                chunk.job.recipients.first.map { first in
                    var event = plan.event(first.position, .queued, atMs: now)
                    event.count = chunk.job.recipients.count
                    return event
                }
            }
            events += written.compactMap { row in
                AnalyticsEventType.outcome(row.status).map { plan.event(row.position, $0, reason: row.lastError ?? "", atMs: now) }
            }
            self.events.record(events)
            cursor = last.position
            try await bus.blocking { try job.inProgress() }
            if Task.isShuttingDownGracefully { return false }
        }
    }
}

extension BatchLedger.Plan {
    /// An analytics event of this batch's recipient.
    func event(_ position: Int, _ type: AnalyticsEventType, reason: String = "", atMs: Int64) -> AnalyticsEvent {
        AnalyticsEvent(timeMs: atMs, userID: userID, batchID: id, recipient: position, sendConfigID: sendConfigID, provider: provider,
                       type: type, reason: reason)
    }
}

/// How many batches this processor is expanding now.
private final class InFlight: Sendable {
    private let value = Mutex(0)
    var count: Int { value.withLock { $0 } }
    func change(by delta: Int) { value.withLock { $0 += delta } }
}

/// True at most once per interval: for work that several batches starting together need only once.
final class Every: Sendable {
    private let intervalMs: Int64
    private let last = Mutex<Int64>(0)

    init(milliseconds: Int64) { intervalMs = milliseconds }

    func due(_ nowMs: Int64) -> Bool {
        last.withLock { last in
            guard nowMs - last >= intervalMs else { return false }
            last = nowMs
            return true
        }
    }
}
