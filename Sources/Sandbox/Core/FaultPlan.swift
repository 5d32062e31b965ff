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
