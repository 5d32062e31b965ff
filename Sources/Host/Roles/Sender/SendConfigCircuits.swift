import Domain
import HostCore
import Logging

/// The circuits of the send-configs this sender sends through (`CircuitBreaker`), one per process: each sender
/// learns of an outage from its own requests, within `CircuitBreaker.minimumRequests` of them.
actor SendConfigCircuits {
    private var breaker = CircuitBreaker()
    private let clock: any WallClock
    private let logger: Logger

    init(clock: any WallClock, logger: Logger) {
        self.clock = clock
        self.logger = logger
    }

    func admit(_ sendConfigID: String) -> CircuitBreaker.Admission {
        breaker.admit(sendConfigID, nowMs: clock.nowMilliseconds)
    }

    func record(_ sendConfigID: String, provider: String, requests: Int, failed: Int, probe: Bool) {
        guard let change = breaker.record(sendConfigID, requests: requests, failed: failed, probe: probe, nowMs: clock.nowMilliseconds) else { return }
        SenderMetrics.circuit(provider, change)
        switch change {
        case .opened:
            logger.warning("provider failing: its chunks wait, spending no attempts, until a probe gets an answer",
                           metadata: ["sendConfig": "\(sendConfigID)", "provider": "\(provider)"])
        case .closed:
            logger.info("provider answering again: its chunks go", metadata: ["sendConfig": "\(sendConfigID)", "provider": "\(provider)"])
        }
    }
}
