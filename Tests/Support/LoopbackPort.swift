#if canImport(Glibc)
import Glibc
#endif

/// Ports on 127.0.0.1: one free to give a server, and whether a server accepts connections on one yet.
public enum LoopbackPort {
    /// A port nothing listens on now (the kernel's pick; free until someone else takes it).
    public static func free() throws(TestSupportError) -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw TestSupportError("no free loopback port (errno \(errno)): is the machine out of ports?") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something accepts a TCP connection on `port` now.
    public static func accepts(_ port: Int) -> Bool { LoopbackSocket(port: port, readTimeoutMs: 1_000) != nil }

    /// Blocks until something accepts connections on `port`; throws after `timeout`.
    public static func waitUntilListening(_ port: Int, timeout: Duration = .seconds(20)) throws {
        try eventuallyBlocking("a server listening on port \(port)", timeout: timeout) { accepts(port) }
    }
}
