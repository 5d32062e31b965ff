import Synchronization

/// A Lua script Redis runs atomically. Its digest is learnt from the first
/// `SCRIPT LOAD` and shared by every connection; a server that lost its script
/// cache (a restart) is given the script again.
public final class RedisScript: Sendable {
    public let source: String
    private let digest = Mutex<String?>(nil)

    public init(_ source: String) {
        self.source = source
    }

    func sha1(loadingWith connection: RedisConnection, reload: Bool = false) throws(RedisError) -> String {
        if !reload, let known = digest.withLock({ $0 }) { return known }
        guard let loaded = try connection.command(["SCRIPT", "LOAD", source]).string else {
            throw RedisError(.reply, "SCRIPT LOAD gave no digest")
        }
        digest.withLock { $0 = loaded }
        return loaded
    }
}
