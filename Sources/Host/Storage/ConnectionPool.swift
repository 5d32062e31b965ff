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
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// `threads` must have at least `capacity` threads (shared pools add up their capacities).
    public init(capacity: Int, threads: NIOThreadPool, isHealthy: @escaping @Sendable (Connection) -> Bool,
                factory: @escaping Factory) {
        precondition(capacity > 0, "a pool needs at least one connection")
        self.capacity = capacity
        self.threads = threads
        self.isHealthy = isHealthy
        self.factory = factory
    }

    /// Runs `body` with a connection on a pool thread.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        try await withLease { lease in try await lease.run(body) }
    }

    /// Holds one connection for several steps (a COPY fed from a request body,
    /// a transaction spanning awaits); each `lease.run` hops to a pool thread.
    public func withLease<T>(_ body: (Lease) async throws -> T) async throws -> T {
        await acquireSlot()
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

    private func acquireSlot() async {
        let granted: Bool = lock.withLock {
            guard inUse < capacity else { return false }
            inUse += 1
            return true
        }
        if granted { return }
        await withCheckedContinuation { continuation in
            let immediate: Bool = lock.withLock {
                if inUse < capacity { inUse += 1; return true }
                waiters.append(continuation)
                return false
            }
            if immediate { continuation.resume() }
        }
    }

    private func release(_ lease: Lease) {
        let next: CheckedContinuation<Void, Never>? = lock.withLock {
            if let connection = lease.connection, isHealthy(connection) { idle.append(connection) }
            lease.connection = nil
            // The slot passes straight to the next waiter, if any.
            guard waiters.isEmpty else { return waiters.removeFirst() }
            inUse -= 1
            return nil
        }
        next?.resume()
    }
}
