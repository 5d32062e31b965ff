import Domain
import Testing

/// When a send-config's chunks wait out their provider's outage: the rules, with the time passed in.
@Suite("Provider circuits")
struct CircuitBreakerTests {
    static func admission(_ breaker: inout CircuitBreaker, _ key: String = "c", at nowMs: Int64) -> CircuitBreaker.Admission {
        breaker.admit(key, nowMs: nowMs).0
    }

    @Test("it opens only when most requests of the last 10 s failed, and at least 10 ended; scattered faults leave it closed")
    func opens() {
        var breaker = CircuitBreaker()
        #expect(breaker.record("c", requests: 9, failed: 9, probe: false, nowMs: 0) == nil, "too few requests to judge")
        #expect(Self.admission(&breaker, at: 1) == .send)
        #expect(breaker.record("c", requests: 1, failed: 1, probe: false, nowMs: 500) == .opened)
        #expect(Self.admission(&breaker, at: 600) == .wait(ms: CircuitBreaker.openMs - 100))

        var scattered = CircuitBreaker()
        for second in 0..<60 {
            #expect(scattered.record("c", requests: 10, failed: 3, probe: false, nowMs: Int64(second) * 1_000) == nil, "30% faults at \(second) s")
        }
        #expect(Self.admission(&scattered, at: 60_000) == .send)

        var old = CircuitBreaker()
        _ = old.record("c", requests: 8, failed: 8, probe: false, nowMs: 0)
        #expect(old.record("c", requests: 2, failed: 2, probe: false, nowMs: 10_500) == nil, "failures older than the window are forgotten")
        #expect(Self.admission(&old, "other", at: 0) == .send, "each send-config has its own circuit")
    }

    @Test("a config may be tried when closed or due for its probe, not while it waits, a probe is out, or it gave up; asking changes nothing")
    func mayTry() {
        var breaker = CircuitBreaker()
        #expect(breaker.mayTry("c", nowMs: 0) && breaker.isClosed("c"))
        _ = breaker.record("c", requests: 10, failed: 10, probe: false, nowMs: 0)
        #expect(!breaker.mayTry("c", nowMs: 4_999) && !breaker.isClosed("c"))
        #expect(breaker.mayTry("c", nowMs: 5_000))
        #expect(breaker.mayTry("c", nowMs: 5_000), "asking took no probe")
        #expect(Self.admission(&breaker, at: 5_000) == .probe)
        #expect(!breaker.mayTry("c", nowMs: 5_001), "its probe is out")
        #expect(breaker.mayTry("c", nowMs: 5_000 + CircuitBreaker.probeTimeoutMs), "a lost probe frees it")
    }

    @Test("open, one chunk probes when the wait is over while the others wait a period; an answered probe closes it; a failed or unsent one opens it again")
    func probes() {
        var breaker = CircuitBreaker()
        _ = breaker.record("c", requests: 10, failed: 10, probe: false, nowMs: 0)
        #expect(Self.admission(&breaker, at: 5_000) == .probe)
        #expect(Self.admission(&breaker, at: 5_001) == .wait(ms: CircuitBreaker.openMs), "one probe at a time; the others wait a whole period")
        #expect(breaker.record("c", requests: 3, failed: 3, probe: false, nowMs: 5_002) == nil, "requests sent before it opened do not decide")
        #expect(breaker.record("c", requests: 1, failed: 1, probe: true, nowMs: 5_100) == nil)
        #expect(Self.admission(&breaker, at: 6_000) == .wait(ms: 4_100), "a failed probe opens it for another period")
        #expect(Self.admission(&breaker, at: 10_100) == .probe)
        #expect(breaker.record("c", requests: 0, failed: 0, probe: true, nowMs: 10_150) == nil, "a probe that sent nothing decides nothing")
        #expect(Self.admission(&breaker, at: 10_200) == .wait(ms: CircuitBreaker.openMs - 50))
        #expect(Self.admission(&breaker, at: 15_150) == .probe)
        #expect(breaker.record("c", requests: 1, failed: 0, probe: true, nowMs: 15_200) == .closed)
        #expect(Self.admission(&breaker, at: 15_201) == .send)
        #expect(breaker.record("c", requests: 9, failed: 9, probe: false, nowMs: 15_300) == nil, "closed afresh: the old failures are gone")
    }

    @Test("a probe lost with its process does not hold the circuit forever; a wall clock stepping back holds no longer than a period")
    func lostProbe() {
        var breaker = CircuitBreaker()
        _ = breaker.record("c", requests: 10, failed: 10, probe: false, nowMs: 0)
        #expect(Self.admission(&breaker, at: 5_000) == .probe)
        #expect(Self.admission(&breaker, at: 5_000 + CircuitBreaker.probeTimeoutMs - 1) == .wait(ms: CircuitBreaker.openMs))
        #expect(Self.admission(&breaker, at: 5_000 + CircuitBreaker.probeTimeoutMs) == .probe)

        var stepped = CircuitBreaker()
        _ = stepped.record("c", requests: 10, failed: 10, probe: false, nowMs: 3_600_000)
        #expect(Self.admission(&stepped, at: 0) == .wait(ms: CircuitBreaker.openMs), "an hour back on the clock")
    }

    @Test("after 10 minutes of outage it gives up holding: chunks go and spend their attempts, until an answer closes it")
    func givesUp() {
        var breaker = CircuitBreaker()
        _ = breaker.record("c", requests: 10, failed: 10, probe: false, nowMs: 0)
        var now: Int64 = 0
        while now < CircuitBreaker.maxOpenMs - CircuitBreaker.openMs {
            now += CircuitBreaker.openMs
            #expect(Self.admission(&breaker, at: now) == .probe)
            _ = breaker.record("c", requests: 1, failed: 1, probe: true, nowMs: now)
        }
        now += CircuitBreaker.openMs
        #expect(breaker.admit("c", nowMs: now) == (.send, .gaveUp))
        #expect(Self.admission(&breaker, at: now + 1) == .send)
        #expect(breaker.record("c", requests: 50, failed: 50, probe: false, nowMs: now + 2) == nil, "still failing: still sending")
        #expect(Self.admission(&breaker, at: now + 3) == .send)
        #expect(breaker.record("c", requests: 2, failed: 1, probe: false, nowMs: now + 4) == .closed)
    }
}
