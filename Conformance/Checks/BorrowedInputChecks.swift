@_spi(Conformance) import HostCore
import ProviderModel

/// Everything a plugin borrows from the host is read-only and ends at a guard
/// page (GuardedMemory): a write into a message, a response or a webhook, or
/// a read one byte past any of them, crashes the call that did it.
enum BorrowedInputChecks: CheckGroup {
    static let name = "borrowed"

    static func run(_ context: GroupContext) {
        guard let instance = context.sharedInstance() else { return }
        let fixtures = context.fixtures
        let note = "inputs read-only and ending at a guard page"

        if context.plugin.sends {
            var batches: [(String, [OutboundMessage])] = [("1 message", context.messages(1))]
            for channel in context.plugin.descriptor.channels {
                let count = min(context.plugin.descriptor.maxBatch, 5)
                batches.append(("\(count) distinct \(channel.rawValue) messages", RequestChecks.distinct(count, channel: channel, fixtures: fixtures)))
                var hostile = fixtures.baseMessage(for: channel)
                hostile.id = "msg_0"
                hostile.idempotencyKey = "idem_0"
                hostile.subject = RequestChecks.hostileText
                hostile.text = RequestChecks.hostileText
                hostile.headers = [KeyValue("x-custom", "value")]
                batches.append(("a \(channel.rawValue) message with hostile text", [hostile]))
            }
            for (label, messages) in batches {
                context.check("borrowed inputs: prepare \(label), \(note)") {
                    let memory = GuardedMemory()
                    let array = memory.messages(messages)
                    memory.seal()
                    CrashWitness.witness("prepare \(label) in guarded memory")
                    _ = failure { _ = try instance.prepare(cMessages: array, count: messages.count) }
                    return .pass
                }
            }
            let statuses = [HTTPResult(status: 429, headers: [KeyValue("retry-after", "7")]), HTTPResult(status: 503),
                            HTTPResult(failure: .timeout, message: "timed out")]
            let responses = fixtures.responses.map { ($0.file, $0.messages, $0.response.result) }
                + statuses.map { ("status \($0.status)\($0.transportFailure.map { " transport \($0.rawValue)" } ?? "")", 1, $0) }
            for (label, count, result) in responses {
                context.check("borrowed inputs: interpret \(label), \(note)") {
                    let memory = GuardedMemory()
                    let messages = context.messages(count)
                    let array = memory.messages(messages)
                    let response = memory.response(result)
                    memory.seal()
                    CrashWitness.witness("interpret \(label) in guarded memory", input: result.body)
                    _ = failure { _ = try instance.interpret(cMessages: array, count: count, response: response) }
                    return .pass
                }
            }
        }

        if context.plugin.receivesWebhooks {
            for fixture in fixtures.webhooks {
                for call in ["verify", "parse"] {
                    context.check("borrowed inputs: \(call) \(fixture.file), \(note)") {
                        let memory = GuardedMemory()
                        let request = memory.request(fixture.request.webhook)
                        memory.seal()
                        CrashWitness.witness("\(call) \(fixture.file) in guarded memory", input: fixture.request.webhook.body)
                        if call == "verify" {
                            _ = instance.verifyOnce(cRequest: request)
                        } else {
                            _ = failure { _ = try instance.parse(cRequest: request) }
                        }
                        return .pass
                    }
                }
            }
        }
    }
}
