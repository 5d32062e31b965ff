import Synchronization

/// The fate drawn for each accepted message that has webhooks, by provider and
/// message id, so a test can check that a receiver ends every recipient where
/// the sandbox planned (`GET /sandbox/fates?provider=`). Bounded: past
/// `capacity` messages, new fates are no longer kept (counted as `dropped`).
final class FateLog: Sendable {
    private struct State {
        var fates: [SandboxProvider: [String: MessageFate]] = [:]
        var count = 0
        var dropped = 0
    }

    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int = 2_000_000) {
        self.capacity = capacity
    }

    func record(_ provider: SandboxProvider, messageId: String, fate: MessageFate) {
        state.withLock { state in
            guard state.count < capacity else { state.dropped += 1; return }
            if state.fates[provider, default: [:]].updateValue(fate, forKey: messageId) == nil { state.count += 1 }
        }
    }

    func fates(_ provider: SandboxProvider) -> (fates: [String: MessageFate], dropped: Int) {
        state.withLock { ($0.fates[provider] ?? [:], $0.dropped) }
    }

    func reset() {
        state.withLock { $0 = State() }
    }
}
