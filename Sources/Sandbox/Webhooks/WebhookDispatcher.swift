import HostCore
import Logging
import ProviderModel
import ServiceLifecycle
import Synchronization

/// Sends due webhooks, at most `concurrency` at a time, and reschedules the
/// ones a receiver did not acknowledge with a 2xx on the provider's schedule.
/// On graceful shutdown it stops taking new jobs and lets the ones in flight
/// finish (each is bounded by its provider's timeout).
final class WebhookDispatcher: Service, Sendable {
    let queue = DueQueue<WebhookJob>()
    private let client: any HTTPClient
    private let stats: SandboxStats
    private let subscription: SNSSubscription
    private let concurrency: Int
    private let logger: Logger
    private let inFlight = Atomic<Int>(0)
    /// Until this time (ms since the epoch) no webhook leaves: `POST /sandbox/webhooks/hold`, so that a
    /// benchmark can time a send without the sandbox's webhook work (SNS's RSA signatures) on the same cores.
    private let heldUntil = Atomic<Int64>(0)

    init(client: any HTTPClient, stats: SandboxStats, subscription: SNSSubscription, concurrency: Int, logger: Logger) {
        self.client = client
        self.stats = stats
        self.subscription = subscription
        self.concurrency = concurrency
        self.logger = logger
    }

    func schedule(_ job: WebhookJob, due: Int64) {
        queue.push(job, due: due)
    }

    /// Holds every webhook for `seconds` from now (0 lets them go); those that fall due meanwhile leave
    /// once the hold ends, in the order they fell due.
    func hold(seconds: Double) {
        heldUntil.store(seconds > 0 ? SystemClock.nowMilliseconds + Int64(seconds * 1_000) : 0, ordering: .relaxed)
    }

    /// Jobs waiting for their time, plus those being sent.
    var pending: Int { queue.count + inFlight.load(ordering: .relaxed) }

    func run() async throws {
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                let now = SystemClock.nowMilliseconds
                let room = now >= heldUntil.load(ordering: .relaxed) ? concurrency - inFlight.load(ordering: .relaxed) : 0
                let due = room > 0 ? queue.popDue(now: now, limit: room) : []
                for job in due {
                    inFlight.add(1, ordering: .relaxed)
                    group.addTask {
                        await self.deliver(job)
                        self.inFlight.subtract(1, ordering: .relaxed)
                    }
                }
                // A 2 ms tick bounds the added latency without a wake-up per job.
                if due.isEmpty { try? await Task.sleep(for: .milliseconds(2)) }
            }
        }
    }

    private func deliver(_ job: WebhookJob) async {
        if job.needsConfirmedSubscription, !subscription.isConfirmed {
            // SNS does not deliver to an endpoint that has not confirmed its subscription.
            stats.update(job.provider) { $0.webhooksDroppedUnconfirmed += 1 }
            return
        }
        let now = SystemClock.nowMilliseconds
        let (headers, body) = job.build(job.attempt, now)
        stats.update(job.provider) { $0.webhooksSent += 1 }
        let request = PreparedRequest(method: "POST", url: job.url, headers: headers, body: body, messageIndices: [])
        let result = await client.execute(request, timeoutMs: job.schedule.timeoutMilliseconds)
        if result.transportFailure == nil, (200..<300).contains(result.status) {
            stats.update(job.provider) { $0.webhooksAcknowledged += 1 }
            return
        }
        let retryIndex = job.attempt - 1
        guard retryIndex < job.schedule.retryDelaysMilliseconds.count else {
            stats.update(job.provider) { $0.webhooksFailed += 1 }
            logger.debug("webhook gave up", metadata: ["url": "\(job.url)", "event": "\(job.eventId)", "attempts": "\(job.attempt)"])
            return
        }
        var next = job
        next.attempt += 1
        stats.update(job.provider) { $0.webhooksRetried += 1 }
        queue.push(next, due: SystemClock.nowMilliseconds + job.schedule.retryDelaysMilliseconds[retryIndex])
    }
}
