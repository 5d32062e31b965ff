import Foundation
import HostCore
import ProviderModel

/// What goes into a request, not only where it goes: the fixtures' expected
/// requests, every carried message really in its request's body, signatures
/// that verify, and messages of every shape the plugin declares (channels,
/// several recipients, hostile text, messages it must refuse in mixed batches).
enum RequestChecks: CheckGroup {
    static let name = "requests"

    static func run(_ context: GroupContext) {
        guard context.plugin.sends else {
            context.check("sender interface") { .skip("the plugin does not send") }
            return
        }
        guard let instance = context.sharedInstance() else { return }
        content(context, instance)
        shapes(context, instance)
    }

    // MARK: - Request content

    private static func content(_ context: GroupContext, _ instance: PluginInstance) {
        let fixtures = context.fixtures
        context.check("request content: fixtures include expected requests") {
            Verdict.expect(!fixtures.requests.isEmpty, "at least one requests/*.json fixture (docs/conformance.md)", got: "none")
        }
        for fixture in fixtures.requests {
            context.check("request content: fixture \(fixture.file): \(fixture.description)") {
                let messages = try fixtures.messages(of: fixture)
                let prepared: PreparedSend
                do {
                    prepared = try instance.prepare(messages)
                } catch {
                    return .fail(expected: "\(fixture.requests.count) requests", actual: error.summary)
                }
                return compare(prepared, with: fixture)
            }
        }

        let maxBatch = context.plugin.descriptor.maxBatch
        for channel in context.plugin.descriptor.channels {
            let count = min(maxBatch, 5)
            context.check("request content: each of \(count) distinct \(channel.rawValue) messages is in the body of the request that carries it") {
                let messages = distinct(count, channel: channel, fixtures: fixtures)
                let prepared: PreparedSend
                do {
                    prepared = try instance.prepare(messages)
                } catch {
                    return .fail(expected: "requests for \(count) messages", actual: error.summary)
                }
                var problems: [String] = []
                for request in prepared.requests {
                    if BodyContent.isJSON(request) && JSONValue.parse(request.body) == nil {
                        problems.append("a request says its body is JSON but it does not parse")
                    }
                }
                for (index, message) in messages.enumerated() {
                    let carriers = prepared.requests.filter { $0.messageIndices.contains(index) }
                    let marker = Self.marker(of: message)
                    let holding = prepared.requests.filter { BodyContent.carries(marker, in: $0.body) }
                    if carriers.isEmpty { continue } // refused: checked by the well-formed checks
                    if !carriers.allSatisfy({ BodyContent.carries(marker, in: $0.body) }) {
                        problems.append("message \(index) is placed in a request whose body lacks its text \"\(marker)\"")
                    }
                    // A webhook's recipient is the endpoint the request goes to, not something its body repeats.
                    for recipient in message.to where channel != .webhook
                        && !carriers.contains(where: { BodyContent.carries(recipient, in: $0.body) }) {
                        problems.append("message \(index)'s recipient \(recipient) is not in its request's body")
                    }
                    if holding.count > carriers.count {
                        problems.append("message \(index)'s text is in \(holding.count) request bodies but it is placed in \(carriers.count)")
                    }
                }
                return Verdict.expect(problems.isEmpty, "every placed message's recipients and text in its request's body, and in no other",
                                      got: problems.prefix(4).joined(separator: "; "))
            }
        }

        if fixtures.manifest.requestSignature == "webhook" {
            context.check("request content: every request's signature verifies with the configured secret") {
                let messages = distinct(min(maxBatch, 3), channel: context.channel, fixtures: fixtures)
                let prepared: PreparedSend
                do {
                    prepared = try instance.prepare(messages)
                } catch {
                    return .fail(expected: "signed requests", actual: error.summary)
                }
                var problems: [String] = []
                for (index, request) in prepared.requests.enumerated() {
                    let path = URL(string: request.url)?.path ?? "/"
                    let inbound = InboundWebhook(method: request.method, path: path.isEmpty ? "/" : path,
                                                 headers: request.headers.map { KeyValue($0.name.lowercased(), $0.value) }, body: request.body)
                    if let failure = instance.verifyOnce(inbound).status {
                        problems.append("request \(index): \(failure.status.rawValue) \(failure.message)")
                    }
                }
                return Verdict.expect(!prepared.requests.isEmpty && problems.isEmpty,
                                      "each request verifies as a webhook signed with the configured secret",
                                      got: prepared.requests.isEmpty ? "no requests" : problems.joined(separator: "; "))
            }
        }
    }

    /// Compares what the plugin prepared with a request fixture, request by request.
    static func compare(_ prepared: PreparedSend, with fixture: Fixtures.RequestCase) -> Verdict {
        var problems: [String] = []
        let refused = prepared.refused.map(\.messageIndex).sorted()
        if refused != fixture.refused.sorted() { problems.append("refused \(refused), not \(fixture.refused.sorted())") }
        if prepared.requests.count != fixture.requests.count {
            problems.append("\(prepared.requests.count) requests, not \(fixture.requests.count)")
        }
        for (index, (actual, expected)) in zip(prepared.requests, fixture.requests).enumerated() {
            let label = "request \(index)"
            if actual.method != expected.method { problems.append("\(label): method \(actual.method), not \(expected.method)") }
            if actual.url != expected.url { problems.append("\(label): url \(actual.url), not \(expected.url)") }
            if actual.messageIndices != expected.messages {
                problems.append("\(label): carries messages \(actual.messageIndices), not \(expected.messages)")
            }
            let names = Set(actual.headers.map { $0.name.lowercased() })
            for (name, value) in expected.headers.sorted(by: { $0.key < $1.key }) {
                guard let got = actual.headers.first(named: name.lowercased()) else {
                    problems.append("\(label): no \(name) header")
                    continue
                }
                if value != "*" && got != value { problems.append("\(label): \(name): \"\(got)\", not \"\(value)\"") }
            }
            let extra = names.subtracting(expected.headers.keys.map { $0.lowercased() })
            if !extra.isEmpty { problems.append("\(label): headers the fixture does not list: \(extra.sorted().joined(separator: ", "))") }
            if let json = expected.json {
                guard let body = JSONValue.parse(actual.body) else {
                    problems.append("\(label): the body is not JSON: \(String(decoding: actual.body.prefix(120), as: UTF8.self))")
                    continue
                }
                problems += differences(body, json, at: "\(label) body")
            } else if let text = expected.body, actual.body != Array(text.utf8) {
                problems.append("\(label): body \"\(String(decoding: actual.body.prefix(160), as: UTF8.self))\", not \"\(text.prefix(160))\"")
            }
        }
        return Verdict.expect(problems.isEmpty, "the requests the fixture lists", got: problems.prefix(6).joined(separator: "; "))
    }

    /// Where two JSON values differ, as paths.
    static func differences(_ actual: JSONValue, _ expected: JSONValue, at path: String) -> [String] {
        switch (actual, expected) {
        case (.object(let a), .object(let e)):
            var found: [String] = []
            for key in Set(a.keys).union(e.keys).sorted() {
                switch (a[key], e[key]) {
                case (nil, _?): found.append("\(path).\(key) is missing")
                case (_?, nil): found.append("\(path).\(key) is not expected")
                case (let x?, let y?): found += differences(x, y, at: "\(path).\(key)")
                default: break
                }
            }
            return found
        case (.array(let a), .array(let e)) where a.count == e.count:
            return zip(a, e).enumerated().flatMap { differences($0.element.0, $0.element.1, at: "\(path)[\($0.offset)]") }
        case (.string(let a), .string(let e)) where a != e:
            // JSON carried inside a string (template data, a webhook payload) is compared as JSON too: key order is free.
            if let inner = JSONValue.parse(Array(a.utf8)), let wanted = JSONValue.parse(Array(e.utf8)), inner.isContainer, wanted.isContainer {
                return differences(inner, wanted, at: path + " (JSON text)")
            }
            return ["\(path) is \(actual.compactText.prefix(80)), not \(expected.compactText.prefix(80))"]
        default:
            return actual == expected ? [] : ["\(path) is \(actual.compactText.prefix(80)), not \(expected.compactText.prefix(80))"]
        }
    }

    // MARK: - Message shapes

    static let hostileText = "Quote \" backslash \\ slash / tab \t newline \n return \r controls \u{1}\u{1f}\u{7f} "
        + "Grüße 東京 🚀 </script> &amp; 'single' \u{2028}"

    private static func shapes(_ context: GroupContext, _ instance: PluginInstance) {
        let fixtures = context.fixtures
        let descriptor = context.plugin.descriptor
        for channel in descriptor.channels {
            context.check("message shapes: a \(channel.rawValue) message gives a well-formed request") {
                var message = fixtures.baseMessage(for: channel)
                message.id = "msg_0"
                message.idempotencyKey = "idem_0"
                return SenderChecks.wellFormed(instance, [message])
            }
            context.check("message shapes: JSON-hostile and Unicode text in a \(channel.rawValue) message reaches the body intact") {
                var message = fixtures.baseMessage(for: channel)
                message.id = "msg_0"
                message.idempotencyKey = "idem_0"
                var text = hostileText
                switch channel {
                case .email:
                    message.subject = hostileText
                    message.text = hostileText
                case .sms:
                    message.text = hostileText
                case .webhook:
                    message.payload = JSONValue.object(["text": .string(hostileText)]).compactText
                    text = hostileText
                }
                let prepared: PreparedSend
                do {
                    prepared = try instance.prepare([message])
                } catch {
                    return .fail(expected: "a request", actual: error.summary)
                }
                guard let request = prepared.requests.first else {
                    return .fail(expected: "a request", actual: "refused: \(prepared.refused.map(\.message).joined(separator: "; "))")
                }
                if BodyContent.isJSON(request) && JSONValue.parse(request.body) == nil {
                    return .fail(expected: "a body that parses as JSON", actual: String(decoding: request.body.prefix(200), as: UTF8.self))
                }
                return Verdict.expect(BodyContent.carries(text, in: request.body), "the text, byte for byte once decoded",
                                      got: String(decoding: request.body.prefix(300), as: UTF8.self))
            }
        }

        if descriptor.channels.contains(.email) {
            let limits = fixtures.manifest.recipients ?? Fixtures.RecipientLimits()
            context.check("message shapes: \(limits.to) to, \(limits.cc) cc and \(limits.bcc) bcc addresses all reach the request") {
                var message = fixtures.baseMessage(for: .email)
                message.id = "msg_0"
                message.idempotencyKey = "idem_0"
                message.to = (0..<limits.to).map { "to\($0)@example.org" }
                message.cc = (0..<limits.cc).map { "cc\($0)@example.org" }
                message.bcc = (0..<limits.bcc).map { "bcc\($0)@example.org" }
                let prepared: PreparedSend
                do {
                    prepared = try instance.prepare([message])
                } catch {
                    return .fail(expected: "a request", actual: error.summary)
                }
                let bodies = prepared.requests.map(\.body)
                let missing = (message.to + message.cc + message.bcc).filter { address in
                    !bodies.contains { BodyContent.carries(address, in: $0) }
                }
                return Verdict.expect(prepared.refused.isEmpty && missing.isEmpty, "every address in a request body",
                                      got: prepared.refused.isEmpty ? "missing \(missing.joined(separator: ", "))" : "the message was refused")
            }
        }

        let maxBatch = descriptor.maxBatch
        for channel in descriptor.channels where channel != .webhook {
            context.check("message shapes: a \(channel.rawValue) message without a recipient is refused alone, never also sent") {
                var messages = distinct(min(maxBatch, 3), channel: channel, fixtures: fixtures)
                let empty = messages.count > 1 ? 1 : 0
                messages[empty].to = []
                let prepared: PreparedSend
                do {
                    prepared = try instance.prepare(messages, hostChecks: false)
                } catch {
                    return .fail(expected: "message \(empty) refused with a permanent outcome, the others sent", actual: error.summary)
                }
                var problems: [String] = []
                let refused = prepared.refused.map(\.messageIndex)
                if refused != [empty] { problems.append("refused \(refused), not [\(empty)]") }
                if prepared.refused.contains(where: { $0.kind != .permanent }) { problems.append("a refusal that is not permanent") }
                let marker = Self.marker(of: messages[empty])
                if prepared.requests.contains(where: { BodyContent.carries(marker, in: $0.body) }) {
                    problems.append("the refused message's text is in a request body")
                }
                return Verdict.expect(problems.isEmpty, "only message \(empty) refused (permanent) and in no body",
                                      got: problems.joined(separator: "; "))
            }
        }

        if let foreign = Channel.allCases.first(where: { !descriptor.channels.contains($0) }), let own = descriptor.channels.first {
            context.check("message shapes: a \(foreign.rawValue) message, a channel it does not declare, is refused and never sent") {
                var messages = distinct(min(maxBatch, 2), channel: own, fixtures: fixtures)
                var stranger = distinct(messages.count, channel: foreign, fixtures: fixtures).last!
                stranger.id = messages.last!.id
                stranger.idempotencyKey = messages.last!.idempotencyKey
                messages[messages.count - 1] = stranger
                let strangerIndex = messages.count - 1
                let prepared: PreparedSend
                do {
                    prepared = try instance.prepare(messages, hostChecks: false)
                } catch {
                    let status = error.pluginFailure.status
                    return Verdict.expect([.unsupported, .invalidArgument].contains(status) && !error.isContractViolation,
                                          "unsupported for the call, or that message refused", got: error.summary)
                }
                let marker = Self.marker(of: stranger)
                var problems: [String] = []
                if !prepared.refused.contains(where: { $0.messageIndex == strangerIndex }) { problems.append("it was not refused") }
                if prepared.requests.contains(where: { BodyContent.carries(marker, in: $0.body) }) {
                    problems.append("its text is in a request body")
                }
                return Verdict.expect(problems.isEmpty, "unsupported for the call, or that message refused and in no body",
                                      got: problems.joined(separator: "; "))
            }
        }
    }

    // MARK: - Helpers

    /// `count` messages on `channel`, each with its own recipient and a text no other carries.
    static func distinct(_ count: Int, channel: Channel, fixtures: Fixtures) -> [OutboundMessage] {
        let base = fixtures.baseMessage(for: channel)
        return (0..<count).map { index in
            var message = base
            message.id = "msg_\(index)"
            message.idempotencyKey = "idem_\(index)"
            switch channel {
            case .email:
                message.to = ["rcpt\(index)@example.org"]
                message.subject = "Subject for message \(index)"
                message.text = "Marker text of message \(index)."
            case .sms:
                message.to = [String(format: "+1555010%04d", 1000 + index)]
                message.text = "Marker text of message \(index)."
            case .webhook:
                message.payload = JSONValue.object(["marker": .string("Marker text of message \(index)."), "n": .number(Double(index))]).compactText
            }
            return message
        }
    }

    /// The text that identifies a message made by `distinct`.
    static func marker(of message: OutboundMessage) -> String {
        if message.channel == .webhook, let marker = JSONValue.parse(Array(message.payload.utf8))?["marker"]?.stringValue { return marker }
        return message.text
    }
}

private extension JSONValue {
    var isContainer: Bool {
        switch self {
        case .object, .array: true
        default: false
        }
    }
}
