import HostCore
import ProviderCrypto
import ProviderModel

/// The JSON documents the `plugin` verbs print (docs/cli.md).
enum OutputDocuments {
    static func descriptor(_ plugin: LoadedPlugin) -> JSONValue {
        let d = plugin.descriptor
        return .object([
            "id": .string(d.id), "name": .string(d.name), "version": .string(d.version),
            "description": .string(d.description), "path": .string(plugin.path),
            "channels": .array(d.channels.map { .string($0.rawValue) }),
            "max_batch": .number(Double(d.maxBatch)),
            "interfaces": .array(d.interfaces.map(JSONValue.string)),
            "config_keys": .array(d.configKeys.map { key in
                var object: [String: JSONValue] = [
                    "name": .string(key.name), "type": .string(key.type.rawValue), "required": .bool(key.required),
                    "secret": .bool(key.secret), "description": .string(key.description),
                ]
                if let value = key.defaultValue { object["default"] = .string(value) }
                return .object(object)
            }),
        ])
    }

    static func request(_ request: PreparedRequest) -> JSONValue {
        var object: [String: JSONValue] = [
            "method": .string(request.method), "url": .string(request.url),
            "headers": .object(Dictionary(request.headers.map { ($0.name, JSONValue.string($0.value)) },
                                          uniquingKeysWith: { first, _ in first })),
            "message_indices": .array(request.messageIndices.map { .number(Double($0)) }),
        ]
        if let text = String(validating: request.body, as: UTF8.self) {
            object["body"] = .string(text)
        } else {
            object["body"] = .string(Encoding.base64(request.body))
            object["body_encoding"] = .string("base64")
        }
        return .object(object)
    }

    static func outcome(_ outcome: SendOutcome, messages: [OutboundMessage]) -> JSONValue {
        var object: [String: JSONValue] = [
            "message_index": .number(Double(outcome.messageIndex)),
            "message_id": .string(messages.indices.contains(outcome.messageIndex) ? messages[outcome.messageIndex].id : ""),
            "kind": .string(outcome.kind.rawValue),
        ]
        if !outcome.providerMessageId.isEmpty { object["provider_message_id"] = .string(outcome.providerMessageId) }
        if let after = outcome.retryAfterMs { object["retry_after_ms"] = .number(Double(after)) }
        if !outcome.code.isEmpty { object["code"] = .string(outcome.code) }
        if !outcome.message.isEmpty { object["message"] = .string(outcome.message) }
        return .object(object)
    }
}
