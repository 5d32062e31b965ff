import ProviderModel

/// One send through a plugin: prepare, execute each request with the host's
/// client (concurrently), interpret each response. Outcomes come back indexed
/// by the caller's messages, one per message. A response the plugin fails to
/// interpret fails only its own request's messages (retryable, `plugin_error`):
/// the other requests' outcomes, accepted ones included, are kept, so that
/// nothing the provider took is sent again.
public struct Delivery: Sendable {
    public let instance: PluginInstance
    public let client: any HTTPClient

    public init(instance: PluginInstance, client: any HTTPClient) {
        self.instance = instance
        self.client = client
    }

    /// The code of an outcome the host made because the plugin broke its contract.
    public static let pluginError = "plugin_error"

    public func send(_ messages: [OutboundMessage]) async throws(PluginFailure) -> [SendOutcome] {
        guard !instance.plugin.readsAttachments, messages.contains(where: { !$0.attachments.isEmpty }) else {
            return try await sendThroughPlugin(messages)
        }
        // A plugin of ABI 1.0 or 1.1, or one that does not say it sends files, would send the email without them.
        let passed = messages.indices.filter { messages[$0].attachments.isEmpty }
        var outcomes = messages.indices.filter { !messages[$0].attachments.isEmpty }.map {
            SendOutcome.attachmentsUnsupported($0, instance.plugin.abiMinor < 2
                ? "plugin \(instance.plugin.descriptor.id) was built for ABI 1.\(instance.plugin.abiMinor), which carries none"
                : "plugin \(instance.plugin.descriptor.id) does not send files (its descriptor does not set BSP_FEATURE_ATTACHMENTS)")
        }
        if !passed.isEmpty {
            for var outcome in try await sendThroughPlugin(passed.map { messages[$0] }) {
                outcome.messageIndex = passed[outcome.messageIndex]
                outcomes.append(outcome)
            }
        }
        return outcomes.sorted { $0.messageIndex < $1.messageIndex }
    }

    private func sendThroughPlugin(_ messages: [OutboundMessage]) async throws(PluginFailure) -> [SendOutcome] {
        let prepared = try instance.prepare(messages)
        var results: [Int: HTTPResult] = [:]
        if prepared.requests.count == 1 {
            // The usual case of a one-message provider: no child task to run one request.
            results[0] = await client.execute(prepared.requests[0])
        } else {
            results = await withTaskGroup(of: (Int, HTTPResult).self) { group in
                for (position, request) in prepared.requests.enumerated() {
                    group.addTask { (position, await client.execute(request)) }
                }
                var results: [Int: HTTPResult] = [:]
                for await (position, result) in group { results[position] = result }
                return results
            }
        }
        var outcomes = prepared.refused
        for (position, request) in prepared.requests.enumerated() {
            guard let result = results[position] else { continue }
            // Usually one request carries the whole call in order: the array itself, not a copy of each message.
            let carried = request.messageIndices.elementsEqual(messages.indices) ? messages : request.messageIndices.map { messages[$0] }
            do {
                for outcome in try instance.interpret(result, for: carried) {
                    var mapped = outcome
                    mapped.messageIndex = request.messageIndices[outcome.messageIndex]
                    outcomes.append(mapped)
                }
            } catch {
                outcomes += request.messageIndices.map {
                    SendOutcome(messageIndex: $0, kind: .retryable, code: Self.pluginError,
                                message: "the plugin could not interpret the provider's answer (HTTP \(result.status)): \(error)")
                }
            }
        }
        return outcomes.sorted { $0.messageIndex < $1.messageIndex }
    }
}
