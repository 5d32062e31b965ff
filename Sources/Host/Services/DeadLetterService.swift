import Domain
import Messaging
import Persistence

/// Recipients that used every attempt (the dead-letter stream) and webhooks that could not be applied (the
/// webhook dead letters), for the operators: read, and sent again.
package struct DeadLetterService: Sendable {
    let database: ConnectionPool<PostgresConnection>
    let delivery: DeliveryState
    /// Announces a re-driven job's tenant and makes its queue before the job is published.
    let tenants: any TenantAnnouncing
    let bus: MessageBus

    package init(database: ConnectionPool<PostgresConnection>, delivery: DeliveryState, tenants: any TenantAnnouncing, bus: MessageBus) {
        self.database = database
        self.delivery = delivery
        self.tenants = tenants
        self.bus = bus
    }

    /// The oldest dead letters (of `batch` only, when given), with their stream sequence.
    package func letters(batch: String?, limit: Int) async throws -> [(sequence: UInt64, letter: DeadLetter)] {
        let stored = try await bus.run { try $0.messages(stream: Streams.deadLetters, from: 1, limit: 1_000_000) }
        var letters: [(sequence: UInt64, letter: DeadLetter)] = []
        for message in stored where letters.count < limit {
            guard let letter = try? DeadLetter(decoding: message.data) else { continue }
            if let batch, letter.job.batchID != batch { continue }
            letters.append((message.sequence, letter))
        }
        return letters
    }

    /// Sends dead-lettered recipients again with fresh attempts and removes their dead letters: how many
    /// letters were removed and recipients sent again, how many letters were kept because a recipient of
    /// theirs still waits to be sent, and how many because no recipient of theirs has a row in this database
    /// (`DeadLetter.plan`). A recipient whose row is not failed is not sent again.
    package func redrive(batch: String?, limit: Int) async throws -> (letters: Int, recipients: Int, kept: Int, notHere: Int) {
        var recipients = 0, removed = 0, kept = 0, notHere = 0
        let letters = try await letters(batch: batch, limit: limit)
        let ledger = BatchLedger(database: database)
        for (sequence, letter) in letters {
            let batchID = letter.job.batchID
            let standing = try await ledger.statuses(batchID: batchID, positions: letter.job.recipients.map(\.position))
            let plan = letter.plan(standing: standing)
            guard case .redrive(var positions) = plan else {
                if plan == .notHere { notHere += 1 } else { kept += 1 }
                continue
            }
            if !positions.isEmpty {
                if !(try await delivery.isTrusted(batchID)) { try await HotStateRebuild(ledger: ledger, delivery: delivery).rebuild(batchID: batchID) }
                // The rows first: a rebuild of the batch's state between the two (Redis restarted, stuck-batch
                // recovery) then finds them waiting, not failed, and puts back no outcome that would make the
                // re-driven job skip them; and the batch is processing again before its outcomes are forgotten.
                // Only the rows it requeued: one a retry took meanwhile keeps its outcome.
                positions = try await ledger.redrive(batchID: batchID, positions: positions)
                let outcomes = try await delivery.outcomes(batchID: batchID, positions: positions)
                let failed = outcomes.filter { if case .failed? = $0 { true } else { false } }.count
                try await delivery.forget(batchID: batchID, positions: positions, failedDelta: failed)
                // One a fallback sent goes through it again: another provider might deliver it a second time.
                try await HotStateRebuild(ledger: ledger, delivery: delivery).pinAgain(batchID: batchID)
                if let pause = try await ledger.standing(batchID: batchID)?.pause { try await delivery.rewritePause(batchID, pause) }
                // The tenant's work is announced and its consumer made before its job is published.
                try await tenants.announce(userID: letter.job.userID)
            }
            var job = letter.job
            let chosen = Set(positions)
            job.recipients = job.recipients.filter { chosen.contains($0.position) }
            // A later dead letter of these recipients is a new one, not a repeat of this one.
            job.redriveRound += 1
            let message = job.recipients.isEmpty ? nil
                : OutgoingMessage(subject: Streams.tenantSubject(userID: job.userID), id: "redrive:\(sequence)", data: job.encoded())
            try await bus.run { jetStream in
                if let message { try jetStream.publish([message]) }
                try jetStream.delete(stream: Streams.deadLetters, sequence: sequence)
            }
            recipients += positions.count
            removed += 1
        }
        return (removed, recipients, kept, notHere)
    }

    /// The newest orphaned webhook events (no recipient matched), as JSON lines.
    package func webhookOrphans(limit: Int) async throws -> [String] {
        try await WebhookLedger(database: database).orphans(limit: limit)
    }

    /// The newest dead-lettered webhooks, as JSON lines.
    package func webhookDeadLetters(limit: Int) async throws -> [String] {
        try await WebhookDeadLetters(database: database).list(limit: limit)
    }

    /// Stores dead-lettered webhooks (of one send-config, when given) in the webhooks stream again, oldest
    /// first, and removes their dead letters: how many.
    package func redriveWebhooks(limit: Int, sendConfigID: String?) async throws -> Int {
        try await WebhookDeadLetters(database: database).redrive(limit: limit, sendConfigID: sendConfigID) { stored in
            // A fresh message id: JetStream's duplicate window would drop the webhook's own.
            let message = OutgoingMessage(subject: Streams.webhookSubject(provider: stored.letter.provider, event: "redrive"),
                                          id: "webhook-redrive:\(stored.id):\(stored.deadAt)", data: stored.letter.envelope)
            try await bus.run { jetStream in try jetStream.publish([message]) }
        }
    }
}
