import Synchronization

/// How many messages each recipient received, per provider (`GET /sandbox/reached?provider=`): a test that sends
/// one message per recipient through two providers (a failover) adds the counts up and finds every recipient
/// reached once, where the per-provider `duplicate_deliveries` could not see a message sent by both. Addresses are
/// compared without case. Bounded: past `capacity` distinct recipients new ones are not kept (counted as `dropped`).
final class ReachedLog: Sendable {
    private struct State {
        var counts: [SandboxProvider: [String: Int]] = [:]
        var distinct = 0
        var dropped = 0
    }

    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int = 200_000) {
        self.capacity = capacity
    }

    func record(_ provider: SandboxProvider, _ deliveries: [Delivery]) {
        state.withLock { state in
            for recipient in deliveries.lazy.flatMap(\.recipients) {
                let address = recipient.lowercased()
                if let count = state.counts[provider]?[address] {
                    state.counts[provider]![address] = count + 1
                } else if state.distinct < capacity {
                    state.counts[provider, default: [:]][address] = 1
                    state.distinct += 1
                } else {
                    state.dropped += 1
                }
            }
        }
    }

    func reached(_ provider: SandboxProvider) -> (counts: [String: Int], dropped: Int) {
        state.withLock { ($0.counts[provider] ?? [:], $0.dropped) }
    }

    func reset() {
        state.withLock { $0 = State() }
    }
}
