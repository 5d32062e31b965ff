import Domain
import HostCore

/// The JetStream streams, subjects and consumers of the delivery pipeline
/// (SYSTEM.md "Streams"), created idempotently by every role at start-up.
public enum Streams {
    public static let system = "email-system"
    public static let deadLetters = "email-dlq"
    public static let webhooks = "webhooks"

    public static let batchSubject = "sys.batch.process"
    public static let prioritySubject = "sys.email.priority"
    public static let tenantSubjects = "email.user.*.send"
    public static let deadLetterSubjects = "dlq.email.>"
    public static let webhookSubjects = "webhook.>"

    /// Where a verified webhook goes: `webhook.{provider}.{event}`, the event being the
    /// type of its first event (`unknown` when it carries none).
    public static func webhookSubject(provider: String, event: String) -> String {
        // ASCII letters, digits, - and _ stay; anything else (a subject's . * > or a space) becomes _.
        func token(_ text: String) -> String {
            guard !text.isEmpty else { return "unknown" }
            let bytes = text.utf8.map { byte -> UInt8 in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                     UInt8(ascii: "-"), UInt8(ascii: "_"): byte
                default: UInt8(ascii: "_")
                }
            }
            return String(decoding: bytes, as: UTF8.self)
        }
        return "webhook.\(token(provider)).\(token(event))"
    }


    /// Where a tenant's chunk jobs go.
    public static func tenantSubject(userID: String) -> String { "email.user.\(userID).send" }
    /// Where a batch's dead letters go.
    public static func deadLetterSubject(batchID: String) -> String { "dlq.email.\(batchID)" }

    public static let definitions = [
        // Work-queue: an acknowledged job is gone. Ids are remembered for 20 minutes, longer than
        // any processor restart plus stuck-batch recovery, so a re-expansion publishes nothing twice.
        StreamDefinition(name: system, subjects: [batchSubject, prioritySubject, tenantSubjects]),
        // Dead letters stay until a person re-drives them (limits retention, 30 days).
        StreamDefinition(name: deadLetters, subjects: [deadLetterSubjects], maxAgeMs: 30 * 24 * 3_600_000, workQueue: false),
        // Verified webhooks until the processor applied them. A provider's retry of a request already
        // stored carries the same event id, which the duplicate window drops.
        StreamDefinition(name: webhooks, subjects: [webhookSubjects], maxAgeMs: 7 * 24 * 3_600_000),
    ]

    /// Batch jobs: one processor expands a batch and reports progress after every page (well within the
    /// ack wait), so a processor that died is replaced 10 s later.
    public static let batchConsumer = ConsumerDefinition(stream: system, durable: "batch-processor", filter: batchSubject,
                                                         ackWaitMs: 10_000, maxAckPending: 64)
    /// The consumer every sender shared before tenants had their own; removed at start-up, because a
    /// work-queue stream takes no consumers whose filters overlap. What it held goes to the tenants' consumers.
    public static let legacyChunkConsumer = "sender"

    /// One tenant's chunk jobs (`sender-{userId}`). Redeliveries are the pipeline's own retries and
    /// throttling waits, so JetStream does not cap them; the pipeline counts attempts itself.
    public static func tenantConsumer(userID: String, ackWaitMs: Int64) -> ConsumerDefinition {
        ConsumerDefinition(stream: system, durable: "sender-\(userID)", filter: tenantSubject(userID: userID), ackWaitMs: ackWaitMs,
                           maxAckPending: 50_000)
    }

    /// Single transactional messages (`POST /api/messages`), which every sender lane serves before bulk chunks.
    public static func priorityConsumer(ackWaitMs: Int64) -> ConsumerDefinition {
        ConsumerDefinition(stream: system, durable: "priority", filter: prioritySubject, ackWaitMs: ackWaitMs, maxAckPending: 50_000)
    }

    /// The webhook processor. Redeliveries are its own waits: for messages not yet known (bounded by the
    /// orphan age), for an event PostgreSQL refused (bounded by `WebhookRetryPolicy`, then dead-lettered),
    /// and for its servers while they are away, which no cap should turn into lost webhooks; so JetStream
    /// does not cap them either.
    public static let webhookConsumer = ConsumerDefinition(stream: webhooks, durable: "webhook-processor", filter: webhookSubjects,
                                                           ackWaitMs: 30_000, maxAckPending: 50_000)

    public static func ensure(_ jetStream: JetStream) throws(NATSError) {
        for definition in definitions { try jetStream.ensureStream(definition) }
    }

    /// Deletes every stream of the connection's deployment and what they hold (a scratch deployment's, after
    /// its run); one already gone is skipped.
    public static func delete(_ jetStream: JetStream) {
        for definition in definitions { try? jetStream.deleteStream(definition.name) }
    }
}
