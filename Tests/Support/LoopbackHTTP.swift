import HostCore
import ProviderModel

/// Single HTTP requests to a server under test, each on a client of its own (closed after the answer), with
/// the answer as the client saw it: status 0 and a transport message when nothing answered. `timeoutMs`: nil
/// takes the client's default.
public enum LoopbackHTTP {
    public static func send(_ method: String, _ url: String, headers: [KeyValue] = [], body: [UInt8] = [],
                            timeoutMs: Int? = nil) async -> HTTPResult {
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        return await client.execute(PreparedRequest(method: method, url: url, headers: headers, body: body, messageIndices: []), timeoutMs: timeoutMs)
    }

    public static func get(_ url: String, timeoutMs: Int? = nil) async -> HTTPResult {
        await send("GET", url, timeoutMs: timeoutMs)
    }

    /// The answer's body as text.
    public static func text(_ result: HTTPResult) -> String { String(decoding: result.body, as: UTF8.self) }
}
