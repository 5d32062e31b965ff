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

    /// Each chunk's admission, by its send-config, in order. A wait is spread over up to a quarter more, so that
    /// the chunks held back together do not all come back in the same millisecond.
    func admit(_ sendConfigIDs: [String], providers: [String: String]) -> [CircuitBreaker.Admission] {
        let now = clock.nowMilliseconds
        return sendConfigIDs.map { id in
            let (admission, change) = breaker.admit(id, nowMs: now)
            if let change { report(change, id, provider: providers[id] ?? "") }
            guard case .wait(let ms) = admission else { return admission }
            return .wait(ms: ms + Int64.random(in: 0...max(ms / 4, 1)))
        }
    }

    /// Which of `ids` are closed (`CircuitBreaker.isClosed`): whose provider is answering as far as this sender knows.
    func closed(_ ids: Set<String>) -> Set<String> { ids.filter { breaker.isClosed($0) } }

    /// Which of `ids` a chunk could send through now (`CircuitBreaker.mayTry`): the fallbacks that may stand in.
    func mayTry(_ ids: Set<String>) -> Set<String> {
        let now = clock.nowMilliseconds
        return ids.filter { breaker.mayTry($0, nowMs: now) }
    }

    /// A probe admitted for `sendConfigID` that sends no request after all (its chunk went elsewhere, or had nothing
    /// to send): the circuit opens for another period and is free for another chunk's probe, not held until the
    /// probe times out.
    func probeUnsent(_ sendConfigID: String, provider: String) {
        record(sendConfigID, provider: provider, requests: 0, failed: 0, probe: true)
    }

    func record(_ sendConfigID: String, provider: String, requests: Int, failed: Int, probe: Bool) {
        guard let change = breaker.record(sendConfigID, requests: requests, failed: failed, probe: probe, nowMs: clock.nowMilliseconds) else { return }
        report(change, sendConfigID, provider: provider)
    }

    private func report(_ change: CircuitBreaker.Change, _ sendConfigID: String, provider: String) {
        SenderMetrics.circuit(provider, change)
        let metadata: Logger.Metadata = ["sendConfig": "\(sendConfigID)", "provider": "\(provider)"]
        switch change {
        case .opened:
            logger.warning("provider failing: its chunks wait, spending no attempts, until a probe gets an answer", metadata: metadata)
        case .closed:
            logger.info("provider answering again: its chunks go", metadata: metadata)
        case .gaveUp:
            logger.error("provider failing for \(CircuitBreaker.maxOpenMs / 60_000) minutes: its chunks go again and spend their attempts", metadata: metadata)
        }
    }
}
