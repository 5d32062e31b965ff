import Domain
import HostCore
import NIOConcurrencyHelpers
import NIOPosix

/// A bounded pool of blocking connections (libpq, hiredis) whose calls run on
/// a dedicated thread pool, so a slow query never stalls Swift's cooperative
/// threads. Connections are made lazily, reused, and dropped when broken.
public final class ConnectionPool<Connection>: @unchecked Sendable {
    public typealias Factory = @Sendable () throws -> Connection

    private let factory: Factory
    private let isHealthy: @Sendable (Connection) -> Bool
    private let threads: NIOThreadPool
    private let capacity: Int
    private let lock = NIOLock()
    private var idle: [Connection] = []
    private var inUse = 0
    private var waiters: [(id: UInt64, ahead: Bool, continuation: CheckedContinuation<Bool, Never>)] = []
    private var lastWaiter: UInt64 = 0
    /// Connections handed in a row to callers ahead of the line while others waited (`PoolPriority`).
    private var aheadStreak = 0

    /// How long a caller waits for a free connection before `ConnectionPoolBusy`; nil waits as long as it takes.
    private let waitLimitMs: Int?

    /// `threads` must have at least `capacity` threads (shared pools add up their capacities).
    public init(capacity: Int, threads: NIOThreadPool, waitLimitMs: Int? = nil, isHealthy: @escaping @Sendable (Connection) -> Bool,
                factory: @escaping Factory) {
        precondition(capacity > 0, "a pool needs at least one connection")
        self.capacity = capacity
        self.threads = threads
        self.waitLimitMs = waitLimitMs
        self.isHealthy = isHealthy
        self.factory = factory
    }

    /// Callers waiting for a connection now.
    public var waiting: Int { lock.withLock { waiters.count } }

    /// Runs `body` with a connection on a pool thread.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        try await withLease { lease in try await lease.run(body) }
    }

    /// Holds one connection for several steps (a COPY fed from a request body,
    /// a transaction spanning awaits); each `lease.run` hops to a pool thread.
    public func withLease<T>(_ body: (Lease) async throws -> T) async throws -> T {
        try await acquireSlot()
        let lease = Lease(pool: self, connection: lock.withLock { idle.popLast() })
        defer { release(lease) }
        return try await body(lease)
    }

    /// One connection, borrowed until the `withLease` body returns.
    public final class Lease: @unchecked Sendable {
        fileprivate let pool: ConnectionPool
        fileprivate var connection: Connection?

        fileprivate init(pool: ConnectionPool, connection: Connection?) {
            self.pool = pool
            self.connection = connection
        }

        public func run<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
            try await pool.threads.runIfActive {
                let connection = try self.connection ?? self.pool.factory()
                self.connection = connection
                defer { if !self.pool.isHealthy(connection) { self.connection = nil } }
                return try body(connection)
            }
        }
    }

    private func acquireSlot() async throws(ConnectionPoolBusy) {
        let granted: Bool = lock.withLock {
            guard inUse < capacity else { return false }
            inUse += 1
            return true
        }
        if granted { return }
        let id: UInt64 = lock.withLock {
            lastWaiter += 1
            return lastWaiter
        }
        let waitLimitMs = self.waitLimitMs
        let ahead = PoolPriority.ahead
        let served = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let immediate: Bool = lock.withLock {
                if inUse < capacity { inUse += 1; return true }
                // After the other callers ahead of the line, before everyone else.
                let place = ahead ? (waiters.firstIndex { !$0.ahead } ?? waiters.endIndex) : waiters.endIndex
                waiters.insert((id, ahead, continuation), at: place)
                return false
            }
            if immediate { return continuation.resume(returning: true) }
            // Whoever holds the connections, a waiter gives up in time rather than queueing behind them for good.
            if let waitLimitMs {
                Task { [weak self] in
                    try? await Task.sleep(for: .milliseconds(waitLimitMs))
                    self?.expire(id)
                }
            }
        }
        guard served else { throw ConnectionPoolBusy(waitedMs: waitLimitMs ?? 0) }
    }

    private func expire(_ id: UInt64) {
        let waiter: CheckedContinuation<Bool, Never>? = lock.withLock {
            guard let index = waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return waiters.remove(at: index).continuation
        }
        waiter?.resume(returning: false)
    }

    private func release(_ lease: Lease) {
        let next: CheckedContinuation<Bool, Never>? = lock.withLock {
            if let connection = lease.connection, isHealthy(connection) { idle.append(connection) }
            lease.connection = nil
            // The slot passes straight to the next waiter, if any.
            guard !waiters.isEmpty else {
                inUse -= 1
                aheadStreak = 0
                return nil
            }
            var next = 0
            if waiters[0].ahead {
                if aheadStreak >= PoolPriority.maxStreak, let other = waiters.firstIndex(where: { !$0.ahead }) {
                    next = other
                    aheadStreak = 0
                } else {
                    aheadStreak += 1
                }
            } else {
                aheadStreak = 0
            }
            return waiters.remove(at: next).continuation
        }
        next?.resume(returning: true)
    }
}

/// Every connection stayed busy for as long as the pool lets a caller wait: the server is overloaded
/// (or held by slow clients) now; the request can be tried again shortly.
public struct ConnectionPoolBusy: Error, Sendable, CustomStringConvertible {
    public var waitedMs: Int
    public var description: String { "no connection came free within \(waitedMs) ms" }
}

/// Callers that go ahead of the line for a connection: a single transactional message (its API request and its
/// send's round), which a bulk batch's rounds would otherwise keep waiting behind every queued statement — with
/// four lanes of 200,000 recipients sending, one message took over a second to be stored, sent and recorded.
/// Set for a task and what it calls with `PoolPriority.$ahead.withValue(true) { … }`.
public enum PoolPriority {
    @TaskLocal public static var ahead = false
    /// After this many callers ahead of the line served in a row, the longest-waiting other one is: a flood of single
    /// messages slows everyone else's statements, never stops them.
    public static let maxStreak = 4
}
