import Dispatch
import HostCore
import ProviderModel
import Synchronization

/// One instance shared by many threads, as the host shares it between its
/// workers: every call must give what it gives on one thread.
enum ConcurrencyChecks: CheckGroup {
    static let name = "concurrency"

    /// One call on the shared instance and a comparable rendering of what it gave.
    struct Call: Sendable {
        var name: String
        var run: @Sendable (PluginInstance) -> String
    }

    static func run(_ context: GroupContext) {
        let instance: PluginInstance
        do {
            instance = try context.instance()
        } catch {
            context.check("an instance from the fixtures' config") { .fail(expected: "an instance", actual: error.summary) }
            return
        }
        let calls = self.calls(context)
        let threads = 8
        let rounds = context.options.underValgrind ? 3 : 40

        context.check("\(threads) threads × \(rounds) rounds of \(calls.count) calls on one instance agree with one thread") {
            let reference = calls.map { $0.run(instance) }
            let second = calls.map { $0.run(instance) }
            // A call that differs between two runs on one thread (random boundaries, nonces) is compared by shape only.
            let stable = zip(reference, second).map { $0 == $1 }
            let mismatches = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: threads) { thread in
                for round in 0..<rounds {
                    for (index, call) in calls.enumerated() {
                        let result = call.run(instance)
                        let agrees = stable[index] ? result == reference[index] : shape(result) == shape(reference[index])
                        if !agrees {
                            mismatches.withLock { $0.append("thread \(thread) round \(round) \(call.name): \(result.prefix(120))") }
                        }
                    }
                }
            }
            let found = mismatches.withLock { $0 }
            return Verdict.expect(found.isEmpty, "the same results on every thread",
                                  got: "\(found.count) differing results, first: \(found.first ?? "")")
        }
    }

    static func calls(_ context: GroupContext) -> [Call] {
        var calls: [Call] = []
        let plugin = context.plugin
        if plugin.sends {
            for count in Set([1, min(10, plugin.descriptor.maxBatch)]).sorted() {
                let messages = context.messages(count)
                calls.append(Call(name: "prepare \(count)") { instance in
                    render { try instance.prepare(messages) }
                })
            }
            for response in context.fixtures.responses {
                let messages = context.messages(response.messages)
                let result = response.response.result
                calls.append(Call(name: "interpret \(response.file)") { instance in
                    render { try instance.interpret(result, for: messages) }
                })
            }
        }
        if plugin.receivesWebhooks {
            for fixture in context.fixtures.webhooks {
                let request = fixture.request.webhook
                calls.append(Call(name: "verify \(fixture.file)") { instance in
                    instance.verifyOnce(request).status?.status.rawValue ?? "ok"
                })
                calls.append(Call(name: "parse \(fixture.file)") { instance in
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

    /// What must agree even when nonces differ: success, or the failure's status and field.
    private static func shape(_ rendering: String) -> String {
        rendering.hasPrefix("failure ") ? rendering : "success"
    }
}
