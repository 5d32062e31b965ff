import ProviderModel
import Synchronization

/// The counters `GET /sandbox/stats` reports, per provider.
struct ProviderCounters: Sendable, Equatable {
    var requests = 0
    var messagesAccepted = 0
    var idempotentReplays = 0
    /// The same idempotency key accepted as a new send more than once.
    var duplicateSends = 0
    /// A recipient reached again with content it had already received, whatever the key.
    var duplicateDeliveries = 0
    /// Messages accepted with valid RFC 8058 one-click unsubscribe headers.
    var oneClickUnsubscribe = 0
    /// Files delivered, counted per recipient.
    var attachments = 0
    /// Requests refused with 503 by an outage (`POST /sandbox/outage`).
    var outageRefused = 0
    var signatureFailures = 0
    var rejected = 0
    var faultsInjected = 0
    var webhooksSent = 0
    var webhooksAcknowledged = 0
    var webhooksRetried = 0
    var webhooksFailed = 0
    /// SNS notifications discarded because the subscription was not confirmed.
    var webhooksDroppedUnconfirmed = 0

    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.member("requests", number: Int64(requests))
        json.member("messages_accepted", number: Int64(messagesAccepted))
        json.member("idempotent_replays", number: Int64(idempotentReplays))
        json.member("duplicate_sends", number: Int64(duplicateSends))
        json.member("duplicate_deliveries", number: Int64(duplicateDeliveries))
        json.member("one_click_unsubscribe", number: Int64(oneClickUnsubscribe))
        json.member("attachments", number: Int64(attachments))
        json.member("outage_refused", number: Int64(outageRefused))
        json.member("signature_failures", number: Int64(signatureFailures))
        json.member("rejected", number: Int64(rejected))
        json.member("faults_injected", number: Int64(faultsInjected))
        json.member("webhooks_sent", number: Int64(webhooksSent))
        json.member("webhooks_acknowledged", number: Int64(webhooksAcknowledged))
        json.member("webhooks_retried", number: Int64(webhooksRetried))
        json.member("webhooks_failed", number: Int64(webhooksFailed))
        json.member("webhooks_dropped_unconfirmed", number: Int64(webhooksDroppedUnconfirmed))
        json.endObject()
    }
}

/// All providers' counters behind one lock: each update is a few additions,
/// far cheaper than the request around it.
final class SandboxStats: Sendable {
    private let counters = Mutex<[SandboxProvider: ProviderCounters]>([:])

    func update(_ provider: SandboxProvider, _ change: (inout ProviderCounters) -> Void) {
        counters.withLock { change(&$0[provider, default: ProviderCounters()]) }
    }

    func reset() {
        counters.withLock { $0 = [:] }
    }

    func json(extra: (inout JSONWriter) -> Void) -> [UInt8] {
        let all = counters.withLock { $0 }
        var json = JSONWriter(capacity: 1024)
        json.beginObject()
        for provider in SandboxProvider.allCases {
            json.key(provider.rawValue)
            (all[provider] ?? ProviderCounters()).write(to: &json)
        }
        extra(&json)
        json.endObject()
        return json.bytes
    }
}
