import HostCore
import ProviderModel

/// One call on a shared instance, with a rendering of what it gave that can be
/// compared between runs: every interface the plugin serves, on the fixtures.
/// The concurrency and memory groups repeat these.
struct InterfaceCall: Sendable {
    var name: String
    var run: @Sendable (PluginInstance) -> String

    static func all(_ context: GroupContext) -> [InterfaceCall] {
        var calls: [InterfaceCall] = []
        let plugin = context.plugin
        if plugin.sends {
            for count in Set([1, min(10, plugin.descriptor.maxBatch)]).sorted() {
                let messages = context.messages(count)
                calls.append(InterfaceCall(name: "prepare \(count)") { instance in
                    render { try instance.prepare(messages) }
                })
            }
            for response in context.fixtures.responses {
                let messages = context.messages(response.messages)
                let result = response.response.result
                calls.append(InterfaceCall(name: "interpret \(response.file)") { instance in
                    render { try instance.interpret(result, for: messages) }
                })
            }
        }
        if plugin.receivesWebhooks {
            for fixture in context.fixtures.webhooks {
                let request = fixture.request.webhook
                calls.append(InterfaceCall(name: "verify \(fixture.file)") { instance in
                    instance.verifyOnce(request).status?.status.rawValue ?? "ok"
                })
                calls.append(InterfaceCall(name: "parse \(fixture.file)") { instance in
                    render { try instance.parse(request) }
                })
            }
        }
        return calls
    }

    private static func render<T>(_ call: () throws -> T) -> String {
        do {
            return String(describing: try call())
        } catch {
            return "failure \(error.pluginFailure.status.rawValue) \(error.pluginFailure.field)"
        }
    }
}
