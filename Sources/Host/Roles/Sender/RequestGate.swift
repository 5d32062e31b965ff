/// At most `permits` provider requests in flight per sender process. Without it a round of
/// one-message-per-request chunks puts thousands of transfers into libcurl at once, whose
/// bookkeeping then costs more CPU than the sends (and holds their memory), while only
/// `max_connections_per_host` of them can be on the wire anyway.
actor RequestGate {
    private var available: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(permits: Int) {
        available = max(1, permits)
    }

    func acquire() async {
        if available > 0 {
            available -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty { available += 1 } else { waiters.removeFirst().resume() }
    }

    /// Runs `body` holding one permit.
    func withPermit<T: Sendable>(_ body: @Sendable () async -> T) async -> T {
        await acquire()
        let value = await body()
        release()
        return value
    }
}
