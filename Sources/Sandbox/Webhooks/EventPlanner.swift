import HostCore
import ProviderModel

/// One step in an accepted message's life, as its provider reports it.
enum LifecycleStep: Sendable, Equatable {
    case sent, delivered, delayed, hardBounce, softBounce, complained, failed, opened, clicked
}

/// A step and when its webhook leaves, relative to acceptance.
struct TimedStep: Sendable, Equatable {
    var step: LifecycleStep
    var dueOffsetMilliseconds: Int64
    /// A second copy of the same event (same event id), as providers sometimes send.
    var isDuplicate = false
}

/// Turns the configured outcome mix and latency into each message's webhook
/// timeline. Steps follow one another by one latency draw each, and every
/// webhook leaves with its own jitter of up to one maximum latency, so
/// neighbouring events sometimes arrive out of order, as with the real providers.
struct EventPlanner: Sendable {
    enum Channel { case email, sms }

    let settings: WebhookSettings

    /// The fate of a message: forced by a test address's local part
    /// (`delivered@`, `bounced@`, `complained@` as Resend documents, plus
    /// `soft-bounced@`, `failed@`, `delayed@`), otherwise drawn from the mix.
    func fate(recipients: [String], generator: inout SeededGenerator) -> MessageFate {
        if let first = recipients.first, let forced = Self.forcedFate(address: first) { return forced }
        var roll = generator.unit() * settings.outcomes.total
        for (fate, weight) in settings.outcomes.all {
            if roll < weight { return fate }
            roll -= weight
        }
        return .delivered
    }

    static func forcedFate(address: String) -> MessageFate? {
        let bare = EmailAddress.bare(address) ?? address
        guard let at = bare.lastIndex(of: "@") else { return nil }
        let local = bare[..<at].split(separator: "+", maxSplits: 1).first.map(String.init)?.lowercased() ?? ""
        switch local {
        case "delivered": return .delivered
        case "bounced": return .hardBounce
        case "soft-bounced": return .softBounce
        case "complained": return .complained
        case "failed": return .failed
        case "delayed": return .delayed
        default: return nil
        }
    }

    func timeline(fate: MessageFate, channel: Channel, generator: inout SeededGenerator) -> [TimedStep] {
        var steps: [LifecycleStep]
        switch (fate, channel) {
        case (.delivered, .email):
            steps = [.sent, .delivered]
            if generator.unit() < settings.openRate {
                steps.append(.opened)
                if generator.unit() < settings.clickRate { steps.append(.clicked) }
            }
        case (.delivered, .sms), (.complained, .sms): steps = [.sent, .delivered]
        case (.hardBounce, _): steps = [.sent, .hardBounce]
        case (.softBounce, _): steps = [.sent, .softBounce]
        case (.complained, .email): steps = [.sent, .delivered, .complained]
        case (.failed, _): steps = [.failed]
        case (.delayed, .email): steps = [.sent, .delayed, .delivered]
        case (.delayed, .sms): steps = [.sent, .delayed, .delivered]
        }
        let low = Int64(settings.latencyMilliseconds[0]), high = Int64(settings.latencyMilliseconds[1])
        func draw() -> Int64 { low + Int64(generator.unit() * Double(high - low + 1)) }
        var clock: Int64 = 0
        var timed: [TimedStep] = []
        for step in steps {
            clock += draw()
            let due = clock + Int64(generator.unit() * Double(high + 1))
            timed.append(TimedStep(step: step, dueOffsetMilliseconds: due))
            if generator.unit() < settings.duplicateRate {
                timed.append(TimedStep(step: step, dueOffsetMilliseconds: due + draw() * 2, isDuplicate: true))
            }
        }
        return timed
    }
}
