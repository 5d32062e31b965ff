import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Requests the HTTP parser cannot read are answered in the API's error shape, then the connection closes.
@Suite("Malformed HTTP")
struct FramingTests {
    /// Sends `raw` on a new connection to `port` and returns what came back before the server closed it.
    static func exchange(port: Int, _ raw: String) -> String {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = Array(raw.utf8).withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4_096)
        while true {
            let count = recv(socket, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            received += buffer[0..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }

    @Test("a malformed request line, header or chunk is a 400 in the error shape, and the connection closes", arguments: [
        "GARBAGE\r\n\r\n",
        "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        "POST /api/batches HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nZZZ\r\nabc\r\n0\r\n\r\n",
    ])
    func malformed(raw: String) async throws {
        let harness = try APIHarness()
        try await harness.run(live: true) { api in
            let port = try #require(api.client.port)
            let answer = await withCheckedContinuation { done in Thread.detachNewThread { done.resume(returning: Self.exchange(port: port, raw)) } }
            #expect(answer.hasPrefix("HTTP/1.1 400 "), "\(answer)")
            #expect(answer.contains("Content-Type: application/json") && answer.contains(#"{"error":{"code":"bad_request","#), "\(answer)")
            #expect(try await api.call(.get, "/health").status == 200, "the server still answers")
        }
    }
}
