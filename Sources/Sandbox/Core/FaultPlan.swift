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
    private let until = Mutex<[SandboxProvider: ContinuousClock.Instant]>([:])

    /// Starts (or replaces) an outage of `seconds`; 0 ends it.
    func begin(_ provider: SandboxProvider, seconds: Double) {
        until.withLock { $0[provider] = seconds > 0 ? .now + .milliseconds(Int64(seconds * 1_000)) : nil }
    }

    func isDown(_ provider: SandboxProvider) -> Bool {
        until.withLock { $0[provider].map { ContinuousClock.now < $0 } ?? false }
    }

    func reset() { until.withLock { $0 = [:] } }
}
