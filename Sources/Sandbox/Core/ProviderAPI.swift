import Hummingbird
import NIOCore

/// What each provider's endpoints share: counting, the injected fault, the
/// body read, and the provider's own shapes for throttling and internal errors.
protocol ProviderAPI: Sendable {
    var provider: SandboxProvider { get }
    var state: SandboxState { get }
    func throttledReply() -> Reply
    func serverErrorReply(status: Int) -> Reply
    func register(on router: Router<SandboxContext>)
}

/// Thrown after the fault injector closed the connection; no response follows.
struct ConnectionDropped: Error {}

extension ProviderAPI {
    func serve(_ request: Request, _ context: SandboxContext,
               _ handle: @Sendable (ReceivedRequest) async -> Reply) async throws -> Response {
        state.stats.update(provider) { $0.requests += 1 }
        if let outage = state.outages.current(provider) {
            state.stats.update(provider) { $0.outageRefused += 1 }
            // A provider that takes the messages and then fails to answer: sent, but the sender cannot know it.
            if outage.accepting { _ = await handle(try await ReceivedRequest.read(request, context: context)) }
            return serverErrorReply(status: 503).response
        }
        let fault = FaultPlan(settings: state.configuration.faults[provider]).draw(state.random)
        if fault != nil { state.stats.update(provider) { $0.faultsInjected += 1 } }
        switch fault {
        case .dropped:
            try await drop(context)
        case .rateLimited:
            return throttledReply().response
        case .serverError(let status):
            return serverErrorReply(status: status).response
        case .slow(let milliseconds):
            try await Task.sleep(for: .milliseconds(milliseconds))
        case .lostResponse, nil:
            break
        }
        let received = try await ReceivedRequest.read(request, context: context)
        let reply = await handle(received)
        if fault == .lostResponse { try await drop(context) }
        return reply.response
    }

    private func drop(_ context: SandboxContext) async throws -> Never {
        try? await context.channel.close()
        throw ConnectionDropped()
    }
}
