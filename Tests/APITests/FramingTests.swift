import Foundation
import Testing
import TestSupport

/// Requests the HTTP parser cannot read are answered in the API's error shape, then the connection closes.
@Suite("Malformed HTTP")
struct FramingTests {
    /// Sends `raw` on a new connection to `port` and returns what came back before the server closed it.
    static func exchange(port: Int, _ raw: String) -> String {
        guard let socket = LoopbackSocket(port: port, readTimeoutMs: 5_000) else { return "" }
        socket.send(raw)
        var received: [UInt8] = []
        while let bytes = socket.receive(), !bytes.isEmpty { received += bytes }
        return String(decoding: received, as: UTF8.self)
    }

    @Test("a malformed request line, header or chunk is a 400 in the error shape, and the connection closes", arguments: [
        "GARBAGE\r\n\r\n",
        "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        "POST /api/batches HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nZZZ\r\nabc\r\n0\r\n\r\n",
    ])
    func malformed(raw: String) async throws {
        let harness = try APIHarness()
        try await harness.run { api in
            let port = api.client.port
            let answer = await onOwnThread { Self.exchange(port: port, raw) }
            #expect(answer.hasPrefix("HTTP/1.1 400 "), "\(answer)")
            #expect(answer.contains("Content-Type: application/json") && answer.contains(#"{"error":{"code":"bad_request","#), "\(answer)")
            let health = try await api.call(.get, "/health")
            #expect(health.status == 200, "the server still answers")
        }
    }
}
