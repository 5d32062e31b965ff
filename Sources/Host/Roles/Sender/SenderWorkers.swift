import Analytics
import Domain
import HostCore
import Logging
import Messaging
import Persistence
import ProviderInstances
import ProviderModel
import ServiceLifecycle

/// The sender role: lanes that each pull a round of chunk jobs, claim their
/// recipients in Redis (one script call per chunk, one round trip per round),
/// send what is theirs to send, record the dead letters, then every outcome in
/// Redis, then in PostgreSQL (one bulk statement per batch), and only then settle the jobs:
/// ack what is finished, nak with a delay what still has recipients to send.
/// On shutdown each lane finishes its round and stops fetching.
public struct SenderWorkers: Service {
    let bus: MessageBus
    let claims: any ClaimBook
    let buckets: any RateLimiting
    let routes: any RouteResolving
    let books: any OutcomeBooks
    let tenants: any TenantDirectory
    let announcer: any TenantAnnouncing
    let events: any EventRecording
    let publisher: any JobPublishing
    let client: CurlHTTPClient
    let sender: ChunkSender
    /// Single messages' own client and gate: behind the bulk's requests (hundreds queued at the gate and in
    /// libcurl for the same provider host) one waited 0.5–2 s to go out, most of its latency.
    let priorityClient: CurlHTTPClient
    let prioritySender: ChunkSender
    /// Whether each send-config's provider is answering (`CircuitBreaker`), shared by every lane.
    let circuits: SendConfigCircuits
    /// Where each batch's history learns of a switch to a fallback and back; nil in a sender that keeps none (a unit test's).
    let history: RouteHistory?
    /// The connections per provider host the single messages' client opens, beside the bulk's.
    public static let priorityConnectionsPerHost = 4
    let providers: [String]
    let clock: any WallClock
    let settings: PipelineSettings
    let logger: Logger

    /// `client` (bulk chunks) and `priorityClient` (single messages) are the sender's own, shut down when the role stops.
    public init(bus: MessageBus, claims: any ClaimBook, buckets: any RateLimiting, routes: any RouteResolving, books: any OutcomeBooks,
                tenants: any TenantDirectory, announcer: any TenantAnnouncing, events: any EventRecording, client: CurlHTTPClient,
                priorityClient: CurlHTTPClient, maxConnectionsPerHost: Int, providers: [String], clock: any WallClock, settings: PipelineSettings,
                unsubscribe: UnsubscribeLinks? = nil, attachments: (any AttachmentSource)? = nil, history: (any RouteBook)? = nil, logger: Logger) {
        self.bus = bus
        self.claims = claims
        self.buckets = buckets
        self.routes = routes
        self.books = books
        self.tenants = tenants
        self.announcer = announcer
        self.events = events
        publisher = bus
        self.client = client
        self.providers = providers
        self.clock = clock
        self.settings = settings
        self.logger = logger.role("sender")
        // One cache for both lanes: a single message and a batch may name the same file.
        let files = attachments.map { AttachmentCache(source: $0) }
        circuits = SendConfigCircuits(clock: clock, logger: self.logger)
        self.history = history.map { RouteHistory(book: $0, logger: logger.role("sender")) }
        let fileBudget = FileSendBudget()
        sender = ChunkSender(client: client, policy: OutcomePolicy(settings: settings), gate: RequestGate(permits: 4 * maxConnectionsPerHost, clock: clock),
                             unsubscribe: unsubscribe, attachments: files, circuits: circuits, fileBudget: fileBudget)
        self.priorityClient = priorityClient
        prioritySender = ChunkSender(client: priorityClient, policy: OutcomePolicy(settings: settings),
                                     gate: RequestGate(permits: 4 * min(Self.priorityConnectionsPerHost, maxConnectionsPerHost), clock: clock), unsubscribe: unsubscribe,
                                     attachments: files, circuits: circuits, fileBudget: fileBudget)
    }

    public func run() async throws {
        SenderMetrics.prepare(providers: providers)
        await retireLegacyConsumer()
        await withDiscardingTaskGroup { lanes in
            lanes.addTask { await runPriorityLane() }
            for lane in 0..<settings.senderLanes { lanes.addTask { await runLane(lane) } }
        }
        client.shutdown()
        priorityClient.shutdown()
    }

    /// The one consumer all tenants shared before they had their own overlaps theirs, which a work-queue
    /// stream refuses: it goes, and the tenants of every batch in progress are announced so that what
    /// it held is served from their own queues.
    func retireLegacyConsumer() async {
        do {
            try await bus.run { try $0.deleteConsumer(stream: Streams.system, durable: Streams.legacyChunkConsumer) }
            for userID in try await books.tenantsWithBatchesInProgress() { try await announcer.announce(userID: userID) }
        } catch {
            logger.warning("the tenants of batches in progress were not announced; stuck-batch recovery resumes them", metadata: ["error": "\(error)"])
        }
    }

    /// A lane for single messages only, waiting on their queue: one arrives while every other lane is in
    /// the middle of a bulk round, and is sent at once rather than after one of those rounds.
    func runPriorityLane() async {
        let loop = ConsumerLoop(bus: bus, definition: Streams.priorityConsumer(ackWaitMs: settings.ackWaitMs), clock: clock, logger: logger,
                                what: "priority lane")
        await loop.run(size: { settings.fetchBatch }, timeoutMs: 1_000) { jobs in
            _ = await sender.gate.held { await PoolPriority.$ahead.withValue(true) { await round(jobs) } }
        }
    }

    func runLane(_ lane: Int) async {
        let queues = LaneQueues(jetStream: bus.jetStream, ackWaitMs: settings.ackWaitMs, fetchBatch: settings.fetchBatch, logger: logger)
        var refreshedAt: Int64 = 0
        var idleMs: Int64 = 0
        // When the jobs this lane handed back are due again (rate-limit appointments, backoffs): an idle lane
        // looks then, and keeps looking briefly, rather than at its next idle poll, so that a waiting chunk is
        // not late for its tokens.
        var dues: [Int64] = []
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                if clock.nowMilliseconds - refreshedAt >= 250 {
                    let announced = try await tenants.tenants()
                    try await bus.blocking { queues.serve(announced) }
                    refreshedAt = clock.nowMilliseconds
                }
                await sender.gate.whenOpen()
                let jobs = try await bus.blocking { try queues.fetch() }
                let now = clock.nowMilliseconds
                dues.removeAll { $0 < now - 100 }
                if jobs.isEmpty {
                    // Nothing anywhere: look again soon, less often the longer it stays quiet.
                    idleMs = min(max(idleMs * 2, 5), 100)
                    var wait = idleMs
                    if let next = dues.min() { wait = min(wait, next > now ? next - now : 2) }
                    await clock.sleep(milliseconds: max(1, wait))
                } else {
                    idleMs = 0
                    let delays = await round(jobs)
                    let handedBackAt = clock.nowMilliseconds
                    dues += delays.map { handedBackAt + $0 }
                    if dues.count > 4_096 { dues = Array(dues.sorted().prefix(4_096)) }
                }
            } catch {
                logger.warning("sender lane waits for its servers", metadata: ["lane": "\(lane)", "error": "\(error)"])
                try? await bus.blocking { queues.reset() }
                refreshedAt = 0
                await clock.sleep(milliseconds: 1_000)
            }
        }
    }

    /// One round: every job fetched together is claimed, sent, recorded and settled together. Returns the
    /// delays after which the jobs it handed back are due again.
    @discardableResult
    func round(_ messages: [ReceivedMessage]) async -> [Int64] {
        var jobs: [(message: ReceivedMessage, job: ChunkJob)] = []
        for message in messages {
            do { jobs.append((message, try ChunkJob(decoding: message.data))) } catch {
                // A job no worker can read would come back forever: it goes to the dead letters as it is.
                logger.error("unreadable chunk job dead-lettered", metadata: ["subject": "\(message.subject)", "error": "\(error)"])
                try? await bus.run { jetStream in
                    // Named by its place in its stream: stored once, however often the term after it fails.
                    let id = message.streamSequence > 0 ? "unreadable:\(message.subject):\(message.streamSequence)" : nil
                    try jetStream.publish([OutgoingMessage(subject: Streams.deadLetterSubject(batchID: "unreadable"), id: id, data: message.data)])
                    try message.term()
                }
            }
        }
        guard !jobs.isEmpty else { return [] }
        do {
            let claimedAt = clock.nowMilliseconds
            let claims = try await self.claims.claim(jobs.map { ($0.job.batchID, $0.job.recipients.map(\.position)) },
                                                     nowMs: claimedAt, holdMs: settings.claimHoldMs)
            var resolved = await routes(Set(jobs.map(\.job.sendConfigID)))
            // Numbered before the circuits are asked, so that the numbers follow the order in which rounds begin to
            // choose their routes (`RouteHistory`).
            let decision = history?.decision() ?? 0
            // A send-config whose provider is failing everything holds its chunks back before they take any token.
            var admitted = await circuits.admit(jobs.map(\.job.sendConfigID), providers: resolved.compactMapValues { try? $0.get().provider })
            // Its unsent recipients go through a fallback meanwhile; those a provider may have taken stay with it.
            let ways = await failoverRoutes(jobs.map(\.job), claims: claims, routes: &resolved, admissions: &admitted)
            let routes = resolved, admissions = admitted
            let chosen = ways.map { routes[$0.destination] }
            let grants = try await grants(jobs.map(\.job), claims: claims, routes: chosen, ways: ways, admissions: admissions)
            let triages = jobs.indices.map { index in
                triage(jobs[index].job, claims: claims[index], route: chosen[index], grant: grants[index],
                       held: admissions[index] != .send && admissions[index] != .probe, way: ways[index])
            }
            // The requests of a provider that batches are written down before any goes out: whatever becomes of one
            // (no answer, a 5xx, this process killed mid-send), its retry repeats it as it was, under the same key. A
            // request of one too: grouped with others later, its message would go out again under a batch's key.
            // A config with fallbacks writes down every request, each naming the config it went through: a
            // recipient some provider may have taken is sent again there only (`FailoverRoute`).
            var requests: [String: [DeliveryState.KeptRequest]] = [:]
            for (index, (entry, triage)) in zip(jobs, triages).enumerated() {
                let own = entry.job.sendConfigID, way = ways[index].destination
                guard triage.batches || ways[index].bindsRequests else { continue }
                // A probe sends its first request only (`ChunkSender`): the others are not written down, or their
                // recipients would look taken and stay bound to a config that never sent them.
                let sent = admissions[index] == .probe ? Array(triage.requests.prefix(1)) : triage.requests
                requests[entry.job.batchID, default: []] += sent.map {
                    DeliveryState.KeptRequest($0.map(\.recipient.position), via: way == own ? nil : way)
                }
            }
            requests = requests.filter { !$0.value.isEmpty }
            if !requests.isEmpty { try await self.claims.keepTogether(requests) }
            let sending = zip(jobs, triages).map { entry, triage in (entry.job.batchID, triage.requests.joined().map(\.recipient.position)) }
            let chunks = jobs.map(\.job)
            // A single message goes through its own client, whichever lane fetched it.
            let single = jobs.map { $0.message.subject == Streams.prioritySubject }
            // Kept alive until recorded: a record that retries through a server's restart must not see the claims
            // expire and the jobs redelivered, or what it is recording would be sent again beside it.
            let (results, recorded) = await whileKeptAlive(jobs.map(\.message), claims: sending, claimedUntil: claimedAt + settings.claimHoldMs) {
                let results = await withTaskGroup(of: (Int, ChunkSender.Result?).self) { tasks in
                    for (index, job) in chunks.enumerated() {
                        let route = chosen[index], triage = triages[index]
                        let sender = single[index] ? self.prioritySender : self.sender
                        let probe = admissions[index] == .probe
                        tasks.addTask { (index, await self.resolve(job, triage, route: route, via: sender, probe: probe)) }
                    }
                    var results: [(index: Int, result: ChunkSender.Result?)] = []
                    for await answer in tasks { results.append(answer) }
                    return results.sorted { $0.index < $1.index }.map(\.result)
                }
                do {
                    try await self.record(chunks, results, routes: routes)
                    await self.noteRoutes(chunks, results, ways: ways, routes: routes, decision: decision,
                                          probes: admissions.map { $0 == .probe }, single: single)
                    return (results, Result<Void, any Error>.success(()))
                } catch {
                    return (results, Result<Void, any Error>.failure(error))
                }
            }
            try recorded.get()
            await expectBack(jobs.map(\.job), results)
            try await settle(jobs.map(\.message), results)
            return results.compactMap { $0?.retryInMs }
        } catch {
            // Nothing is acked that was not recorded: the jobs come back, and what was recorded is skipped then.
            logger.warning("sender round not recorded; its jobs come back", metadata: ["error": "\(error)"])
            let messages = jobs.map(\.message)
            try? await bus.blocking { for message in messages { try? message.nak(delayMs: 2_000) } }
            return [2_000]
        }
    }

    /// Runs `body` (the round's sends) while telling JetStream the round's jobs are in progress and extending
    /// the claims of what is being sent, every third of the shorter of the ack wait and the claim hold: a
    /// provider that answers slowly (a brownout, requests queued behind the connection limits) does not see
    /// the job redelivered and the same recipients sent beside the first send.
    func whileKeptAlive<T: Sendable>(_ messages: [ReceivedMessage], claims sending: [(batchID: String, positions: [Int])], claimedUntil: Int64,
                                     _ body: @escaping @Sendable () async -> T) async -> T {
        let interval = max(100, min(settings.ackWaitMs, settings.claimHoldMs) / 3)
        let holdMs = settings.claimHoldMs
        return await withTaskGroup(of: T?.self) { group in
            group.addTask { await body() }
            group.addTask {
                // What the claims hold until as this worker set them: the last extension that answered, and one
                // whose answer was lost (it may have been applied).
                var heldUntil = [claimedUntil]
                while true {
                    await clock.sleep(milliseconds: interval)
                    if Task.isCancelled { return nil }
                    let until = clock.nowMilliseconds + holdMs
                    do {
                        try await claims.extend(sending, from: heldUntil, to: until)
                        heldUntil = [until]
                    } catch {
                        heldUntil = [heldUntil[0], until]
                        logger.warning("claims of a slow round not extended", metadata: ["error": "\(error)"])
                    }
                    try? await bus.blocking { for message in messages { try? message.inProgress() } }
                }
            }
            var value: T?
            for await result in group {
                if let result {
                    value = result
                    group.cancelAll()
                }
            }
            return value!
        }
    }

    /// Where each chunk goes this round (`FailoverRoute`): its own send-config, unless that config names fallbacks
    /// or its recipients went through one before. Adds the fallbacks' routes to `routes`, and a chunk sent through
    /// a fallback gets that fallback's admission.
    func failoverRoutes(_ jobs: [ChunkJob], claims: [[DeliveryState.Claim]],
                        routes: inout [String: Result<SendConfigInstances.Route, SendConfigProblem>],
                        admissions: inout [CircuitBreaker.Admission]) async -> [FailoverRoute] {
        var wanted = Set<String>()
        for (job, claims) in zip(jobs, claims) {
            if case .success(let route)? = routes[job.sendConfigID] { wanted.formUnion(route.fallbacks) }
            for case .go(_, _, let via?) in claims { wanted.insert(via) }
        }
        wanted.subtract(routes.keys)
        guard !wanted.isEmpty || routes.values.contains(where: { !((try? $0.get().fallbacks.isEmpty) ?? true) }) else {
            return jobs.map { FailoverRoute(own: $0.sendConfigID) }
        }
        routes.merge(await self.routes(wanted)) { old, _ in old }
        // A config that cannot be read or cannot send (deleted, its plugin gone) stands in for none.
        let resolved = Set(routes.compactMap { (try? $0.value.get()) != nil ? $0.key : nil })
        let available = await circuits.mayTry(resolved)
        let closed = await circuits.closed(Set(jobs.map(\.sendConfigID)))
        var ways: [FailoverRoute] = []
        for (index, (job, claims)) in zip(jobs, claims).enumerated() {
            let own = job.sendConfigID
            let way = FailoverRoute(own: own, admission: admissions[index], ownClosed: closed.contains(own),
                                    fallbacks: (try? routes[own]?.get().fallbacks) ?? [], available: available.contains,
                                    positions: job.recipients.map(\.position), claims: claims)
            if way.destination != own {
                // A probe of its own config this chunk will not send frees the circuit for another chunk's.
                if admissions[index] == .probe { await circuits.probeUnsent(own, provider: (try? routes[own]?.get().provider) ?? "") }
                let provider = (try? routes[way.destination]?.get().provider) ?? ""
                admissions[index] = await circuits.admit([way.destination], providers: [way.destination: provider])[0]
            }
            ways.append(way)
        }
        return ways
    }

    /// Writes down which config each batch's messages went through this round, when that changed: an event in the
    /// batch's history and a metric (`RouteHistory`), as the round chose at `decision`.
    /// A single message (`single`) is a batch of one: it has no course to change, and its own route is in its row.
    func noteRoutes(_ jobs: [ChunkJob], _ results: [ChunkSender.Result?], ways: [FailoverRoute],
                    routes: [String: Result<SendConfigInstances.Route, SendConfigProblem>], decision: UInt64, probes: [Bool],
                    single: [Bool]) async {
        guard let history else { return }
        let providers = routes.compactMapValues { try? $0.get().provider }
        for (index, (job, result)) in zip(jobs, results).enumerated() where !single[index] {
            // A retry repeated through the fallback it went out through says nothing of where the batch goes now, nor
            // does a probe: one request tries a config whose circuit is half open, while the batch's other rounds
            // still go where they went. Only a provider's acceptance this round counts: a row written again for an
            // earlier outcome is no send.
            guard ways[index].bindsRequests, ways[index].routesFresh, !probes[index], let result, result.sentNow else { continue }
            await history.note(batchID: job.batchID, userID: job.userID, own: job.sendConfigID, via: ways[index].destination,
                               decision: decision, providers: providers)
        }
    }

    /// Each of the send-configs, once; absent for one that could not be read (its chunks come back).
    func routes(_ ids: Set<String>) async -> [String: Result<SendConfigInstances.Route, SendConfigProblem>] {
        var routes: [String: Result<SendConfigInstances.Route, SendConfigProblem>] = [:]
        for id in ids {
            do { routes[id] = try await self.routes.route(sendConfigID: id) } catch {
                logger.warning("send-config not readable; its chunks come back", metadata: ["sendConfig": "\(id)", "error": "\(error)"])
            }
        }
        return routes
    }

    /// What each chunk may send now under its send-config's limits: one script call per chunk, one round trip. A
    /// chunk its send-config's circuit holds back takes no token: it is granted nothing, for the circuit's wait.
    /// `routes`: each chunk's route this round (its own config's, or a fallback's: whose limits it then passes).
    func grants(_ jobs: [ChunkJob], claims: [[DeliveryState.Claim]], routes: [Result<SendConfigInstances.Route, SendConfigProblem>?],
                ways: [FailoverRoute], admissions: [CircuitBreaker.Admission]) async throws -> [RateBuckets.Grant] {
        var held: [Int: RateBuckets.Grant] = [:]
        var asked: [Int] = []
        var requests: [RateBuckets.Request] = []
        for (index, (job, claims)) in zip(jobs, claims).enumerated() {
            if case .wait(let ms) = admissions[index] {
                held[index] = RateBuckets.Grant(granted: 0, waitMs: ms)
                continue
            }
            let elsewhere = ways[index].elsewhere
            let wanted = zip(job.recipients, claims).reduce(0) { count, pair in
                if case .go = pair.1, elsewhere.isEmpty || !elsewhere.contains(pair.0.position) { count + 1 } else { count }
            }
            asked.append(index)
            // A send-config that is gone sends nothing: its recipients fail with the reason, no token needed (no
            // level asks for one). Held back instead, they came back at once, forever.
            guard case .success(let route)? = routes[index] else {
                requests.append(RateBuckets.Request(levels: [], wanted: wanted, tenant: job.userID))
                continue
            }
            var levels = buckets.levels(sendConfigID: route.sendConfigID, provider: route.provider, managed: route.managed, rateLimit: route.rateLimit)
            // An email with files is a request of its own (Resend's batch endpoint takes none): a token per message.
            if job.attachmentCount > 0 { levels = levels.map { var level = $0; level.perToken = 1; return level } }
            requests.append(RateBuckets.Request(levels: levels, wanted: wanted, tenant: job.userID))
        }
        let taken = requests.isEmpty ? [] : try await buckets.take(requests)
        var grants = held
        for (index, grant) in zip(asked, taken) { grants[index] = grant }
        return jobs.indices.map { grants[$0] ?? RateBuckets.Grant(granted: 0, waitMs: 1_000) }
    }

    /// A chunk's claims triaged (`ClaimTriage`): its requests cut, and what is decided without a send.
    /// `held`: its send-config's circuit holds it back (its grant of nothing is no rate-limit wait).
    func triage(_ job: ChunkJob, claims: [DeliveryState.Claim], route: Result<SendConfigInstances.Route, SendConfigProblem>?,
                grant: RateBuckets.Grant, held: Bool = false, way: FailoverRoute? = nil) -> ClaimTriage {
        // An email with files goes alone (a token each, above).
        let maxBatch = job.attachmentCount > 0 ? 1 : (try? route?.get().instance.plugin.descriptor.maxBatch) ?? 1
        let triage = ClaimTriage(job, claims: claims, grant: grant, routeKnown: route != nil, maxBatch: maxBatch, route: way)
        if triage.waitingForTokens > 0, !held, case .success(let chosen)? = route {
            SenderMetrics.rateLimitWait(chosen.provider, messages: triage.waitingForTokens)
        }
        return triage
    }

    /// A chunk's requests sent, with what its triage decided.
    func resolve(_ job: ChunkJob, _ triage: ClaimTriage, route: Result<SendConfigInstances.Route, SendConfigProblem>?,
                 via sender: ChunkSender, probe: Bool = false) async -> ChunkSender.Result {
        var result = ChunkSender.Result()
        if probe, triage.requests.isEmpty || route == nil {
            // Nothing to probe with (its recipients decided, held elsewhere, or waiting for tokens): the circuit is
            // freed for another chunk's probe rather than held until the probe times out.
            await circuits.probeUnsent((try? route?.get().sendConfigID) ?? job.sendConfigID, provider: (try? route?.get().provider) ?? "")
        }
        if let route {
            result = await sender.send(job, requests: triage.requests, route: route, probe: probe)
            // Sent through a fallback: its rows say which, so that the fallback's webhooks find them.
            if case .success(let chosen) = route, chosen.sendConfigID != job.sendConfigID {
                for index in result.rows.indices { result.rows[index].sentVia = chosen.sendConfigID }
            }
        }
        result.entries += triage.settled.entries
        result.rows += triage.settled.rows
        if let delay = triage.settled.retryInMs { result.later(delay) }
        return result
    }

    /// The dead letters, Redis, the rows and the events, in that order (`OutcomeRecorder`).
    func record(_ jobs: [ChunkJob], _ results: [ChunkSender.Result?],
                routes: [String: Result<SendConfigInstances.Route, SendConfigProblem>] = [:]) async throws {
        try await OutcomeRecorder(claims: claims, books: books, events: events, publisher: publisher, clock: clock)
            .record(jobs, results, routes: routes)
    }

    /// Writes down when the chunks handed back are due again: a batch waiting on its limits (an appointment,
    /// a daily quota hours away) is alive to stuck-batch recovery, not restarted. Best effort: without it, a
    /// long wait may look stuck, and the recovery's copies are dropped by their ids.
    func expectBack(_ jobs: [ChunkJob], _ results: [ChunkSender.Result?]) async {
        let now = clock.nowMilliseconds
        var dues: [String: Int64] = [:]
        for (job, result) in zip(jobs, results) {
            guard let delay = result?.retryInMs else { continue }
            dues[job.batchID] = max(dues[job.batchID] ?? 0, now + delay)
        }
        guard !dues.isEmpty else { return }
        do { try await claims.expectBack(dues) } catch {
            logger.warning("when handed-back chunks are due was not written", metadata: ["error": "\(error)"])
        }
    }

    func settle(_ messages: [ReceivedMessage], _ results: [ChunkSender.Result?]) async throws {
        try await bus.blocking {
            for (message, result) in zip(messages, results) {
                guard let result else { try? message.nak(delayMs: 2_000); continue }
                if let delay = result.retryInMs { try? message.nak(delayMs: delay) } else { try? message.ack() }
            }
        }
    }
}
