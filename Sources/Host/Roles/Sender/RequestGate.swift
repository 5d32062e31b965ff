import HostCore

/// At most `permits` provider requests in flight per sender process. Without it a round of
/// one-message-per-request chunks puts thousands of transfers into libcurl at once, whose
/// bookkeeping then costs more CPU than the sends (and holds their memory), while only
/// `max_connections_per_host` of them can be on the wire anyway.
///
/// A gate can be held (`held`): while a single message is on its way, no bulk request starts, so the
/// message is not queued behind a fresh wave of them at the provider, in libcurl and on the machine's
/// cores. Holds count as one run while they follow each other with gaps shorter than `maxHoldMs`; a run
/// holds the gate for at most `maxHoldMs` and lasts at most twice that: under a steady stream of single
/// messages the bulk is held at most half the time.
actor RequestGate {
    private var available: Int
    /// In order of arrival from `nextWaiter` on: taking the first of thousands would move all the others.
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var nextWaiter = 0
    private var lanes: [CheckedContinuation<Void, Never>] = []
    private var holds = 0
    /// When the current run of holds began, and its number (what its expiry task names).
    private var heldSince: Int64?
    private var run = 0
    /// The last run whose expiry task has fired: that run is over whatever the clock reads since (a wall clock
    /// stepped back must not hold the bulk past the limit).
    private var expiredRun = 0
    private var releasedAt: Int64?
    private let maxHoldMs: Int64
    private let clock: any WallClock

    /// Requests waiting for a permit.
    var waiting: Int { waiters.count - nextWaiter }

    init(permits: Int, maxHoldMs: Int = 1_000, clock: any WallClock = .system) {
        available = max(1, permits)
        self.maxHoldMs = Int64(max(1, maxHoldMs))
        self.clock = clock
    }

    private var open: Bool {
        guard holds > 0, let heldSince else { return true }
        return expiredRun == run || clock.nowMilliseconds - heldSince >= maxHoldMs
    }

    func acquire() async {
        // Not ahead of a waiter: a hold can run out by time before its expiry task has let the waiters in.
        if available > 0, open, waiting == 0 {
            available -= 1
            return
        }
        await withCheckedContinuation {
            waiters.append($0)
            admit()
        }
    }

    func release() {
        available += 1
        admit()
    }

    /// Returns when the gate is not held: a bulk lane waits here before it starts a round, so that the
    /// round's CPU work (decoding, claiming, building requests) does not compete with a single message's.
    func whenOpen() async {
        if open { return }
        await withCheckedContinuation { lanes.append($0) }
    }

    private func admit() {
        if open, !lanes.isEmpty {
            for lane in lanes { lane.resume() }
            lanes.removeAll()
        }
        while available > 0, open, nextWaiter < waiters.count {
            available -= 1
            waiters[nextWaiter].resume()
            nextWaiter += 1
        }
        if nextWaiter == waiters.count {
            waiters.removeAll(keepingCapacity: true)
            nextWaiter = 0
        } else if nextWaiter >= 1024, nextWaiter * 2 >= waiters.count {
            waiters.removeFirst(nextWaiter)
            nextWaiter = 0
        }
    }

    /// Runs `body` holding one permit.
    func withPermit<T: Sendable>(_ body: @Sendable () async -> T) async -> T {
        await acquire()
        let value = await body()
        release()
        return value
    }

    /// Runs `body` with the gate held: requests waiting for a permit start when it returns (or when the
    /// holding has gone on for `maxHoldMs`).
    nonisolated func held<T: Sendable>(_ body: @Sendable () async -> T) async -> T {
        await hold()
        let value = await body()
        await unhold()
        return value
    }

    private func hold() {
        holds += 1
        let now = clock.nowMilliseconds
        // A hold during another, or soon after the last one, continues their run; a run that began two limits ago is
        // over whatever came since: held at most one limit, then open at least one.
        if let heldSince, now - heldSince < maxHoldMs * 2, holds > 1 || releasedAt.map({ now - $0 < maxHoldMs }) ?? false { return }
        heldSince = now
        run += 1
        let (this, limit, clock) = (run, maxHoldMs, clock)
        // Wakes the waiters when a long run of holds reaches its limit, as no release may come to do it.
        Task { [weak self] in
            await clock.sleep(milliseconds: limit)
            await self?.expire(this)
        }
    }

    private func unhold() {
        holds -= 1
        if holds == 0 { releasedAt = clock.nowMilliseconds }
        admit()
    }

    private func expire(_ run: Int) {
        guard self.run == run else { return }
        expiredRun = run
        admit()
    }
}
