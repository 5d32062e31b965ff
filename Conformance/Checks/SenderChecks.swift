import Foundation
import HostCore
import ProviderModel

/// Building requests and interpreting responses, as the delivery pipeline will call them.
enum SenderChecks: CheckGroup {
    static let name = "sender"

    static func run(_ context: GroupContext) {
        guard context.plugin.sends else {
            context.check("sender interface") { .skip("the plugin does not send") }
            return
        }
        guard let instance = context.sharedInstance() else { return }
        let maxBatch = context.plugin.descriptor.maxBatch

        context.check("one message gives well-formed requests") {
            wellFormed(instance, context.messages(1))
        }
        context.check("max_batch (\(maxBatch)) messages give well-formed requests") {
            wellFormed(instance, context.messages(maxBatch))
        }
        context.check("more than max_batch messages is refused by the plugin itself") {
            guard let failure = failure(of: { _ = try instance.prepare(context.messages(maxBatch + 1), hostChecks: false) }) else {
                return .fail(expected: "status invalid_argument for \(maxBatch + 1) messages", actual: "the plugin prepared them")
            }
            return Verdict.expect(failure.status == .invalidArgument, "status invalid_argument", got: failure.summary)
        }
        context.check("CR/LF in subject, names and addresses cannot inject header lines") {
            var message = context.messages(1)[0]
            let injection = "\r\nX-Injected: yes"
            message.subject += injection
            message.from = "Sender" + injection + " <sender@example.com>"
            message.to = message.to.map { $0 + injection }
            message.replyTo = ["reply@example.com" + injection]
            message.headers.append(KeyValue("x-custom", "value" + injection))
            do {
                let prepared = try instance.prepare([message])
                let injected = prepared.requests.flatMap(\.headers).filter { $0.name.lowercased() == "x-injected" }
                return Verdict.expect(injected.isEmpty, "no X-Injected header in any request", got: "\(injected.count) injected headers")
            } catch {
                // Refusing the message is a safe answer; emitting CR/LF (which the host catches) is not.
                return Verdict.expect(!error.isContractViolation, "a refusal or requests without CR/LF in header values",
                                      got: error.summary)
            }
        }
        context.check("Unicode subjects and bodies survive into the request") {
            var message = context.messages(1)[0]
            let text = "Grüße, 東京 — ✓ 🚀"
            message.subject = text
            message.text = text
            message.html = "<p>\(text)</p>"
            message.payload = "{\"text\":\"\(text)\"}"
            let prepared: PreparedSend
            do {
                prepared = try instance.prepare([message])
            } catch {
                return .fail(expected: "a request", actual: error.summary)
            }
            guard prepared.refused.isEmpty, !prepared.requests.isEmpty else {
                return .fail(expected: "a request", actual: "refused: \(prepared.refused.map(\.message).joined(separator: "; "))")
            }
            let found = prepared.requests.contains { carries(text, in: $0.body) }
            return Verdict.expect(found, "a request body carrying \"\(text)\" as UTF-8 (raw or JSON-escaped)",
                                  got: "no request body carries it intact")
        }

        for response in context.fixtures.responses {
            context.check("response fixture \(response.file): \(response.description)") {
                let messages = context.messages(response.messages)
                let outcomes: [SendOutcome]
                do {
                    outcomes = try instance.interpret(response.response.result, for: messages)
                } catch {
                    return .fail(expected: "one outcome per message", actual: error.summary)
                }
                var problems: [String] = []
                for (index, (outcome, expected)) in zip(outcomes, response.expect).enumerated() {
                    if outcome.kind != expected.kind { problems.append("message \(index): \(outcome.kind.rawValue), not \(expected.kind.rawValue)") }
                    if let id = expected.providerMessageId, outcome.providerMessageId != id {
                        problems.append("message \(index): provider id \"\(outcome.providerMessageId)\", not \"\(id)\"")
                    }
                    if let after = expected.retryAfterMs, outcome.retryAfterMs != after {
                        problems.append("message \(index): retry after \(outcome.retryAfterMs.map(String.init) ?? "none") ms, not \(after)")
                    }
                    if let code = expected.code, outcome.code != code {
                        problems.append("message \(index): code \"\(outcome.code)\", not \"\(code)\"")
                    }
                }
                return Verdict.expect(problems.isEmpty, "the outcomes the fixture lists", got: problems.joined(separator: "; "))
            }
        }

        let count = min(2, maxBatch)
        let generic: [(String, HTTPResult, SendOutcome.Kind?, Int64?)] = [
            ("429 with retry-after: 7 is retryable after 7000 ms",
             HTTPResult(status: 429, headers: [KeyValue("retry-after", "7")], body: Array("{}".utf8)), .retryable, 7000),
            ("429 without retry-after is retryable", HTTPResult(status: 429, body: []), .retryable, nil),
            ("500 with a garbage body is retryable", HTTPResult(status: 500, body: Array("<html>oops".utf8)), .retryable, nil),
            ("503 with an empty body is retryable", HTTPResult(status: 503), .retryable, nil),
            ("400 with a garbage body is permanent", HTTPResult(status: 400, body: Array("\u{1}garbage".utf8)), .permanent, nil),
            ("200 with an empty body gives one outcome per message", HTTPResult(status: 200), nil, nil),
            ("200 with a garbage body gives one outcome per message", HTTPResult(status: 200, body: [0xff, 0x7b, 0x22]), nil, nil),
        ] + TransportFailure.allCases.map {
            ("transport failure \($0.rawValue) is retryable", HTTPResult(failure: $0, message: "simulated"), .retryable, nil)
        }
        for (name, result, kind, retryAfter) in generic {
            context.check(name) {
                let outcomes: [SendOutcome]
                do {
                    outcomes = try instance.interpret(result, for: context.messages(count))
                } catch {
                    return .fail(expected: "one outcome per message", actual: error.summary)
                }
                guard let kind else { return .pass }
                let wrong = outcomes.filter { $0.kind != kind || (retryAfter != nil && $0.retryAfterMs != retryAfter) }
                return Verdict.expect(wrong.isEmpty, "\(count) \(kind.rawValue) outcomes\(retryAfter.map { " after \($0) ms" } ?? "")",
                                      got: outcomes.map { "\($0.kind.rawValue)\($0.retryAfterMs.map { " after \($0) ms" } ?? "")" }.joined(separator: ", "))
            }
        }
    }

    /// Prepares `messages` and checks every request: http(s) URL (https unless it is loopback), no refusals.
    /// The host has already refused bad methods, header injection and misplaced messages (a contract violation).
    static func wellFormed(_ instance: PluginInstance, _ messages: [OutboundMessage]) -> Verdict {
        let prepared: PreparedSend
        do {
            prepared = try instance.prepare(messages)
        } catch {
            return .fail(expected: "requests for \(messages.count) valid messages", actual: error.summary)
        }
        guard prepared.refused.isEmpty else {
            return .fail(expected: "no refusals of the fixtures' valid message",
                         actual: prepared.refused.prefix(3).map { "\($0.code): \($0.message)" }.joined(separator: "; "))
        }
        for request in prepared.requests {
            guard let url = URL(string: request.url), let host = url.host, !host.isEmpty else {
                return .fail(expected: "an absolute URL", actual: request.url)
            }
            let loopback = ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host)
            guard url.scheme == "https" || (loopback && url.scheme == "http") else {
                return .fail(expected: "an https URL (http only to a loopback base URL)", actual: request.url)
            }
        }
        return .pass
    }

    /// Whether `text` is in `body` as raw UTF-8, or as a string value anywhere in it if it is JSON.
    static func carries(_ text: String, in body: [UInt8]) -> Bool {
        if body.firstRange(of: Array(text.utf8)) != nil { return true }
        guard let document = JSONValue.parse(body) else { return false }
        func search(_ value: JSONValue) -> Bool {
            switch value {
            case .string(let string): string.contains(text)
            case .array(let values): values.contains(where: search)
            case .object(let object): object.values.contains(where: search)
            default: false
            }
        }
        return search(document)
    }
}
