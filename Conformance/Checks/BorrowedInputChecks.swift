@_spi(Conformance) import HostCore
import ProviderModel

/// Everything a plugin borrows from the host is read-only and ends at a guard
/// page (GuardedMemory): a write into a message, a response or a webhook, or
/// a read one byte past any of them, crashes the call that did it. Then the
/// same calls again with content a careless plugin changes in place (mixed
/// case, Unicode, whitespace and CRLF at line ends), in memory left writable
/// and compared byte for byte after the call: a plugin that only writes when
/// there is something to lower-case or trim is caught, and the failure shows
/// what it changed.
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

        careless(context, instance)

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

    // MARK: careless content, checksummed

    static let carelessNote = "every borrowed byte unchanged after the call"

    /// Runs `call` on inputs in writable guarded memory; fails when any byte of them changed.
    static func unchanged(_ memory: GuardedMemory, _ call: () -> Void) -> Verdict {
        let before = memory.snapshot()
        call()
        guard let change = memory.changes(since: before) else { return .pass }
        return .fail(expected: "the host's input as it was handed over", actual: "the plugin wrote into what it borrowed: \(change)")
    }

    /// Text with what a careless plugin normalises in place: case, padding, CRLF, non-ASCII.
    static func careless(_ text: String) -> String {
        "  \(text.isEmpty ? "Text" : text) Ünïcödé ÄÖÜ \u{1F680}\t\r\n  "
    }

    /// The same message with every string made careless: mixed-case addresses, padded subjects and texts.
    static func careless(_ message: OutboundMessage) -> OutboundMessage {
        var copy = message
        func address(_ address: String) -> String {
            guard let at = address.firstIndex(of: "@") else { return address }
            return address[..<at].capitalized + "@" + address[address.index(after: at)...].uppercased()
        }
        copy.to = message.to.map(address)
        copy.cc = message.cc.map(address) + (message.channel == .email ? ["Cc.Person@Example.ORG"] : [])
        copy.bcc = message.bcc.map(address)
        copy.replyTo = message.replyTo.map(address)
        if message.channel == .email {
            copy.from = "Néws Désk <News.Desk@Example.ORG>"
            copy.subject = careless(message.subject)
            copy.html = "<P>Héllo <B>Wörld</B></P>\r\n  "
        }
        if message.channel != .webhook { copy.text = careless(message.text) }
        copy.headers = message.headers + [KeyValue("X-Mixed-Case", "  Välue With Spaces  ")]
        copy.tags = message.tags + [KeyValue("Campaign", " Ünï Tag ")]
        copy.metadata = message.metadata + [KeyValue("Order-Ref", " ABC-Déf \r\n")]
        return copy
    }

    /// A webhook with the letters of each header value after its scheme prefix upper-cased
    /// (hex digits a plugin may lower-case before decoding) and every line padded and ended with CRLF.
    static func careless(_ webhook: InboundWebhook) -> InboundWebhook {
        var copy = webhook
        copy.headers = webhook.headers.map { header in
            let value = header.value
            let prefix = value.prefix(8).firstIndex { $0 == "=" || $0 == "," }.map { value.index(after: $0) } ?? value.startIndex
            return KeyValue(header.name, String(value[..<prefix]) + value[prefix...].uppercased())
        }
        var body: [UInt8] = []
        for byte in webhook.body {
            if byte == UInt8(ascii: "\n") { body += Array("  \t\r\n".utf8) } else { body.append(byte) }
        }
        if webhook.body.last != UInt8(ascii: "\n") { body += Array(" \r\n".utf8) }
        copy.body = body
        return copy
    }

    private static func careless(_ context: GroupContext, _ instance: PluginInstance) {
        let fixtures = context.fixtures
        if context.plugin.sends {
            for channel in context.plugin.descriptor.channels {
                var base = fixtures.baseMessage(for: channel)
                base.id = "msg_0"
                base.idempotencyKey = "idem_0"
                let messages = [careless(base)]
                context.check("borrowed inputs: prepare a careless \(channel.rawValue) message (mixed case, Unicode, whitespace), \(carelessNote)") {
                    let memory = GuardedMemory()
                    let array = memory.messages(messages)
                    CrashWitness.witness("prepare of a careless \(channel.rawValue) message in writable guarded memory")
                    return unchanged(memory) { _ = failure { _ = try instance.prepare(cMessages: array, count: 1) } }
                }
            }
            for response in fixtures.responses {
                context.check("borrowed inputs: interpret \(response.file) with mixed case and padded CRLF, \(carelessNote)") {
                    let messages = context.messages(response.messages).map(careless)
                    var result = response.response.result
                    result.headers = result.headers.map { KeyValue($0.name, " " + $0.value.uppercased() + " ") }
                    result.body += Array(" \r\n\t ".utf8)
                    result.transportMessage = careless(result.transportMessage)
                    let memory = GuardedMemory()
                    let array = memory.messages(messages)
                    let c = memory.response(result)
                    CrashWitness.witness("interpret of careless \(response.file) in writable guarded memory", input: result.body)
                    return unchanged(memory) { _ = failure { _ = try instance.interpret(cMessages: array, count: messages.count, response: c) } }
                }
            }
        }
        if context.plugin.receivesWebhooks {
            for fixture in fixtures.webhooks {
                for call in ["verify", "parse"] {
                    context.check("borrowed inputs: \(call) \(fixture.file) with upper-case signatures and padded CRLF lines, \(carelessNote)") {
                        let webhook = careless(fixture.request.webhook)
                        let memory = GuardedMemory()
                        let request = memory.request(webhook)
                        CrashWitness.witness("\(call) of careless \(fixture.file) in writable guarded memory", input: webhook.body)
                        return unchanged(memory) {
                            if call == "verify" { _ = instance.verifyOnce(cRequest: request) } else { _ = failure { _ = try instance.parse(cRequest: request) } }
                        }
                    }
                }
            }
        }
    }
}
