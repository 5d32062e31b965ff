import Synchronization

/// The one SNS HTTP subscription the sandbox delivers SES events through:
/// pending until its receiver GETs the SubscribeURL with the right token.
final class SNSSubscription: Sendable {
    private struct State {
        var token: String
        var confirmed: Bool
    }

    let topicArn: String
    let subscriptionArn: String
    private let state: Mutex<State>

    init(topicArn: String, token: String, confirmed: Bool, subscriptionId: String) {
        self.topicArn = topicArn
        subscriptionArn = topicArn + ":" + subscriptionId
        state = Mutex(State(token: token, confirmed: confirmed))
    }

    var token: String { state.withLock { $0.token } }
    var isConfirmed: Bool { state.withLock { $0.confirmed } }

    /// Confirms when `token` is this subscription's; SNS answers anything else with an error.
    func confirm(topicArn: String, token: String) -> Bool {
        guard topicArn == self.topicArn else { return false }
        return state.withLock { state in
            guard token == state.token else { return false }
            state.confirmed = true
            return true
        }
    }

    func unsubscribe() {
        state.withLock { $0.confirmed = false }
    }
}
