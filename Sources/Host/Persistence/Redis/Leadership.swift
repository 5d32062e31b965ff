/// Leadership of one role among its processes (the discoverer, the background jobs): asked before each
/// piece of leader work, given up on shutdown.
public protocol Leadership: Sendable {
    /// Takes or renews leadership; false when another process holds it or the store is away.
    func hold() async -> Bool
    /// Gives leadership up, only if still held.
    func release() async
}

extension LeaderLease: Leadership {}
