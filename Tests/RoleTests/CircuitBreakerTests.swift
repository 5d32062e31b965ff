import Domain
import Testing

/// When a send-config's chunks wait out their provider's outage: the rules, with the time passed in.
@Suite("Provider circuits")
struct CircuitBreakerTests {
    @Test("it opens only when most requests of the last 10 s failed, and at least 10 ended; scattered faults leave it closed")
    func opens() {
        var breaker = CircuitBreaker()
        #expect(breaker.record("c", requests: 9, failed: 9, probe: false, nowMs: 0) == nil, "too few requests to judge")
        #expect(breaker.admit("c", nowMs: 1) == .send)
        #expect(breaker.record("c", requests: 1, failed: 1, probe: false, nowMs: 500) == .opened)
        #expect(breaker.admit("c", nowMs: 600) == .wait(ms: CircuitBreaker.openMs - 100))

        var scattered = CircuitBreaker()
        for second in 0..<60 {
            #expect(scattered.record("c", requests: 10, failed: 3, probe: false, nowMs: Int64(second) * 1_000) == nil, "30% faults at \(second) s")
        }
        #expect(scattered.admit("c", nowMs: 60_000) == .send)

        var old = CircuitBreaker()
        _ = old.record("c", requests: 8, failed: 8, probe: false, nowMs: 0)
        #expect(old.record("c", requests: 2, failed: 2, probe: false, nowMs: 10_500) == nil, "failures older than the window are forgotten")
        #expect(old.admit("other", nowMs: 0) == .send, "each send-config has its own circuit")
    }

    @Test("open, one chunk probes when the wait is over while the others wait; an answered probe closes it, a failed one opens it again")
    func probes() {
        var breaker = CircuitBreaker()
        _ = breaker.record("c", requests: 10, failed: 10, probe: false, nowMs: 0)
        #expect(breaker.admit("c", nowMs: 5_000) == .probe)
        #expect(breaker.admit("c", nowMs: 5_001) == .wait(ms: 1_000), "one probe at a time")
        #expect(breaker.record("c", requests: 3, failed: 3, probe: false, nowMs: 5_002) == nil, "requests sent before it opened do not decide")
        #expect(breaker.record("c", requests: 1, failed: 1, probe: true, nowMs: 5_100) == nil)
        #expect(breaker.admit("c", nowMs: 6_000) == .wait(ms: 4_100), "a failed probe opens it for another period")
        #expect(breaker.admit("c", nowMs: 10_100) == .probe)
        #expect(breaker.record("c", requests: 1, failed: 0, probe: true, nowMs: 10_200) == .closed)
        #expect(breaker.admit("c", nowMs: 10_201) == .send)
        #expect(breaker.record("c", requests: 9, failed: 9, probe: false, nowMs: 10_300) == nil, "closed afresh: the old failures are gone")
    }

    @Test("a probe lost with its process does not hold the circuit open forever")
    func lostProbe() {
        var breaker = CircuitBreaker()
        _ = breaker.record("c", requests: 10, failed: 10, probe: false, nowMs: 0)
        #expect(breaker.admit("c", nowMs: 5_000) == .probe)
        #expect(breaker.admit("c", nowMs: 5_000 + CircuitBreaker.probeTimeoutMs - 1) == .wait(ms: 1_000))
        #expect(breaker.admit("c", nowMs: 5_000 + CircuitBreaker.probeTimeoutMs) == .probe)
    }
}
