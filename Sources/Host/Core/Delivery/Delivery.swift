import ProviderModel

/// One send through a plugin: prepare, execute each request with the host's
/// client (concurrently), interpret each response. Outcomes come back indexed
/// by the caller's messages, one per message.
public struct Delivery: Sendable {
    public let instance: PluginInstance
    public let client: any HTTPClient

    public init(instance: PluginInstance, client: any HTTPClient) {
        self.instance = instance
        self.client = client
    }

    public func send(_ messages: [OutboundMessage]) async throws(PluginFailure) -> [SendOutcome] {
        let prepared = try instance.prepare(messages)
        let results = await withTaskGroup(of: (Int, HTTPResult).self) { group in
            for (position, request) in prepared.requests.enumerated() {
                group.addTask { (position, await client.execute(request)) }
            }
            var results: [Int: HTTPResult] = [:]
            for await (position, result) in group { results[position] = result }
            return results
        }
        var outcomes = prepared.refused
        for (position, request) in prepared.requests.enumerated() {
            guard let result = results[position] else { continue }
            let carried = request.messageIndices.map { messages[$0] }
            for outcome in try instance.interpret(result, for: carried) {
                var mapped = outcome
                mapped.messageIndex = request.messageIndices[outcome.messageIndex]
                outcomes.append(mapped)
            }
        }
        return outcomes.sorted { $0.messageIndex < $1.messageIndex }
    }
}
