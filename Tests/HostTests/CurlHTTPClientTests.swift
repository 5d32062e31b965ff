import Foundation
import HostCore
import ProviderModel
import Testing

@Suite("HTTP client (libcurl multi)")
struct CurlHTTPClientTests {
    static func post(_ url: String, body: String = "", headers: [KeyValue] = []) -> PreparedRequest {
        PreparedRequest(method: "POST", url: url, headers: headers, body: Array(body.utf8), messageIndices: [0])
    }

    @Test("a request arrives with its method, headers and exact body; the response comes back whole")
    func roundTrip() async throws {
        let server = try TestHTTPServer()
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        let body = "{\"text\":\"héllo\"}"
        let result = await client.execute(Self.post(server.url("/echo"), body: body, headers: [KeyValue("X-Trace", "abc")]))
        #expect(result.transportFailure == nil && result.status == 200)
        #expect(result.headers.first(named: "content-type") == "application/json")
        let echoed = try JSONSerialization.jsonObject(with: Data(result.body)) as? [String: Any]
        #expect(echoed?["method"] as? String == "POST")
        #expect(echoed?["body"] as? String == body)
        #expect((echoed?["headers"] as? [String: String])?["x-trace"] == "abc")
        #expect((echoed?["headers"] as? [String: String])?["expect"] == nil)
    }

    @Test("sequential requests to one host reuse one connection")
    func connectionReuse() async throws {
        let server = try TestHTTPServer()
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        for _ in 0..<20 {
            let result = await client.execute(Self.post(server.url("/echo"), body: "x"))
            #expect(result.status == 200)
        }
        #expect(client.connectionsOpened == 1)
    }

    @Test("many concurrent requests all complete, each with its own response")
    func concurrency() async throws {
        let server = try TestHTTPServer()
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        let url = server.url("/echo")
        let bodies = await withTaskGroup(of: (Int, String).self) { group in
            for index in 0..<64 {
                group.addTask {
                    let result = await client.execute(Self.post(url, body: "n\(index)"))
                    let echoed = try? JSONSerialization.jsonObject(with: Data(result.body)) as? [String: Any]
                    return (index, echoed?["body"] as? String ?? "")
                }
            }
            var bodies: [Int: String] = [:]
            for await (index, body) in group { bodies[index] = body }
            return bodies
        }
        #expect(bodies.count == 64)
        #expect(bodies.allSatisfy { $0.value == "n\($0.key)" })
    }

    @Test("transport failures are classified: timeout, refused connection, dropped connection")
    func transportFailures() async throws {
        let server = try TestHTTPServer()
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        let slow = await client.execute(Self.post(server.url("/slow/2000")), timeoutMs: 200)
        #expect(slow.transportFailure == .timeout)
        // Port 1 on loopback: nothing listens there.
        let refused = await client.execute(Self.post("http://127.0.0.1:1/"))
        #expect(refused.transportFailure == .connect && !refused.transportMessage.isEmpty)
        let dropped = await client.execute(Self.post(server.url("/drop")))
        #expect(dropped.transportFailure == .io)
        let status = await client.execute(Self.post(server.url("/status/429")))
        #expect(status.status == 429 && status.headers.first(named: "retry-after") == "3")
    }

    @Test("after shutdown, requests fail at once instead of hanging")
    func shutdown() async throws {
        let client = CurlHTTPClient()
        client.shutdown()
        let result = await client.execute(Self.post("http://127.0.0.1:1/"))
        #expect(result.transportFailure == .other)
    }
}
