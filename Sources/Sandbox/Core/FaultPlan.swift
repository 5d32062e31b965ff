import Synchronization

/// The fault, if any, that one request suffers.
enum InjectedFault: Sendable, Equatable {
    case rateLimited
    case serverError(status: Int)
    case slow(milliseconds: Int)
    case dropped
    case lostResponse
}

/// Draws each request's fault from a provider's configured rates.
struct FaultPlan: Sendable {
    let settings: FaultSettings

    func draw(_ random: SandboxRandom) -> InjectedFault? {
        let total = settings.rateLimited + settings.serverError + settings.slow + settings.dropped + settings.lostResponse
        guard total > 0 else { return nil }
        var roll = random.unit()
        for (rate, fault) in [(settings.rateLimited, InjectedFault.rateLimited),
                              (settings.serverError, .serverError(status: [500, 502, 503][Int(random.next() % 3)])),
                              (settings.slow, .slow(milliseconds: settings.slowMilliseconds)),
                              (settings.dropped, .dropped),
                              (settings.lostResponse, .lostResponse)] {
            if roll < rate { return fault }
            roll -= rate
        }
        return nil
    }
}

/// Providers down on purpose (`POST /sandbox/outage?provider=&seconds=`): every send request is answered 503
/// with the provider's internal-error shape until the outage ends, as a provider's incident looks from outside.
final class ProviderOutages: Sendable {
    /// How a provider is down: until when, and whether it still takes the messages it answers with a 503.
    struct Outage: Sendable {
        var until: ContinuousClock.Instant
        var accepting: Bool
    }

    private let outages = Mutex<[SandboxProvider: Outage]>([:])

    /// Starts (or replaces) an outage of `seconds`; 0 ends it. `accepting`: each request is taken (its messages
    /// delivered) and then answered 503, as a provider whose answers are lost after it took the messages.
    func begin(_ provider: SandboxProvider, seconds: Double, accepting: Bool = false) {
        outages.withLock { $0[provider] = seconds > 0 ? Outage(until: .now + .milliseconds(Int64(seconds * 1_000)), accepting: accepting) : nil }
    }

    /// The provider's outage now, if it is down.
    func current(_ provider: SandboxProvider) -> Outage? {
        outages.withLock { $0[provider].flatMap { ContinuousClock.now < $0.until ? $0 : nil } }
    }

    func reset() { outages.withLock { $0 = [:] } }
}
