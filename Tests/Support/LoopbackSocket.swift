#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP connection to a server under test (the API, the webhook receiver), for what an HTTP
/// client library will not send: malformed requests, bodies trickled a line at a time. Use it on a
/// thread of its own.
public final class LoopbackSocket {
    public let descriptor: Int32

    /// Connected to 127.0.0.1:`port`, with reads that wait at most `readTimeoutMs`; nil when it cannot connect.
    public init?(port: Int, readTimeoutMs: Int) {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { close(descriptor); return nil }
        var timeout = timeval(tv_sec: readTimeoutMs / 1_000, tv_usec: (readTimeoutMs % 1_000) * 1_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(descriptor) }

    /// Whether the bytes went out (false once the server has closed).
    @discardableResult
    public func send(_ text: String) -> Bool {
        Array(text.utf8).withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } > 0
    }

    /// What one read returns: bytes, [] at the end of the stream, nil when the read timed out.
    public func receive() -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 4_096)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        return count > 0 ? Array(buffer[0..<count]) : count == 0 ? [] : nil
    }
}
