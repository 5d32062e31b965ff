import App
import Foundation
import HostCore
import ProviderModel

/// The sender API as the benchmark and the main job call it: JSON over the host's HTTP client.
struct APIClient: Sendable {
    let base: String
    let key: String
    let http: CurlHTTPClient

    func call(_ method: String, _ path: String, json: JSONValue? = nil, body: [UInt8]? = nil, contentType: String = "application/json",
              expect: Set<Int> = [200, 201]) async throws -> JSONValue {
        var headers = [KeyValue("Authorization", "Bearer \(key)")]
        let bytes = body ?? json.map(\.compactBytes) ?? []
        if !bytes.isEmpty { headers.append(KeyValue("Content-Type", contentType)) }
        let result = await http.execute(PreparedRequest(method: method, url: base + path, headers: headers, body: bytes, messageIndices: []),
                                        timeoutMs: 600_000)
        let text = String(decoding: result.body, as: UTF8.self)
        guard expect.contains(result.status) else {
            throw CommandFailure("\(method) \(path) answered \(result.status): \(text.prefix(400))\(result.transportMessage)")
        }
        return JSONValue.parse(result.body) ?? .null
    }

    static func get(_ url: String, http: CurlHTTPClient) async throws -> JSONValue {
        try await bare("GET", url, http: http)
    }

    /// A request with no body to a URL outside the API (the sandbox's own routes), expecting 200 and JSON.
    static func bare(_ method: String, _ url: String, http: CurlHTTPClient) async throws -> JSONValue {
        let result = await http.execute(PreparedRequest(method: method, url: url, headers: [], body: [], messageIndices: []), timeoutMs: 30_000)
        guard result.status == 200, let value = JSONValue.parse(result.body) else {
            throw CommandFailure("\(method) \(url) answered \(result.status) \(result.transportMessage)")
        }
        return value
    }
}

extension JSONValue {
    var int: Int {
        if case .number(let number) = self { return Int(number) }
        if case .string(let text) = self { return Int(text) ?? 0 }
        return 0
    }
}
