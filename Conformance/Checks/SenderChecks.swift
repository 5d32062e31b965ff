import BatchSenderABI
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
        // A 1.0 plugin has no throttled kind: where 1.1 expects throttled, it answers retryable.
        let abiMinor = context.table?.abiMinor ?? UInt32(BSP_ABI_MINOR)

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
            let found = prepared.requests.contains { BodyContent.carries(text, in: $0.body) }
            return Verdict.expect(found, "a request body carrying \"\(text)\" as UTF-8 (raw or JSON-escaped)",
                                  got: "no request body carries it intact")
        }

        context.check("attachments reach every request intact, or are refused with attachments_unsupported") {
            attachmentsCarried(instance, context.messages(maxBatch), abiMinor: abiMinor)
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
                    let kind = SenderChecks.expected(expected.kind, abiMinor: abiMinor)
                    if outcome.kind != kind { problems.append("message \(index): \(outcome.kind.rawValue), not \(kind.rawValue)") }
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
        func outcomes(_ result: HTTPResult) throws(PluginFailure) -> [SendOutcome] {
            try instance.interpret(result, for: context.messages(count))
        }
        func render(_ outcomes: [SendOutcome]) -> String {
            outcomes.map { "\($0.kind.rawValue)\($0.retryAfterMs.map { " after \($0) ms" } ?? "")" }.joined(separator: ", ")
        }

        for status in statusClasses {
            let kind = expected(context.fixtures.manifest.statusClasses[String(status)] ?? defaultKind(status), abiMinor: abiMinor)
            context.check("status classes: \(status) → \(kind.rawValue)") {
                let given: [SendOutcome]
                do { given = try outcomes(HTTPResult(status: status)) } catch {
                    return .fail(expected: "one outcome per message", actual: error.summary)
                }
                return Verdict.expect(given.allSatisfy { $0.kind == kind }, "\(count) \(kind.rawValue) outcomes", got: render(given))
            }
        }
        for failure in TransportFailure.allCases {
            context.check("status classes: transport failure \(failure.rawValue) → retryable") {
                let given: [SendOutcome]
                do { given = try outcomes(HTTPResult(failure: failure, message: "simulated")) } catch {
                    return .fail(expected: "one outcome per message", actual: error.summary)
                }
                return Verdict.expect(given.allSatisfy { $0.kind == .retryable }, "\(count) retryable outcomes", got: render(given))
            }
        }
        let nowSeconds = context.fixtures.manifest.nowMs / 1000
        for status in [429, 503] {
            let kind = expected(context.fixtures.manifest.statusClasses[String(status)] ?? defaultKind(status), abiMinor: abiMinor)
            guard kind == .retryable || kind == .throttled else { continue }
            for (form, value) in [("delta-seconds", "7"), ("an HTTP-date", HTTPDate.format(seconds: nowSeconds + 7))] {
                context.check("status classes: \(status) with Retry-After as \(form) (\(value)) → \(kind.rawValue) after 7000 ms") {
                    let given: [SendOutcome]
                    do { given = try outcomes(HTTPResult(status: status, headers: [KeyValue("retry-after", value)])) } catch {
                        return .fail(expected: "one outcome per message", actual: error.summary)
                    }
                    let right = given.allSatisfy { $0.kind == kind && (6000...7000).contains($0.retryAfterMs ?? -1) }
                    return Verdict.expect(right, "\(count) \(kind.rawValue) outcomes after 7000 ms", got: render(given))
                }
            }
        }

        let garbage: [(String, HTTPResult, SendOutcome.Kind?)] = [
            ("500 with a garbage body is retryable", HTTPResult(status: 500, body: Array("<html>oops".utf8)), .retryable),
            ("400 with a garbage body is permanent", HTTPResult(status: 400, body: Array("\u{1}garbage".utf8)), .permanent),
            ("200 with an empty body gives one outcome per message", HTTPResult(status: 200), nil),
            ("200 with a garbage body gives one outcome per message", HTTPResult(status: 200, body: [0xff, 0x7b, 0x22]), nil),
        ]
        for (name, result, kind) in garbage {
            context.check(name) {
                let given: [SendOutcome]
                do { given = try outcomes(result) } catch {
                    return .fail(expected: "one outcome per message", actual: error.summary)
                }
                guard let kind else { return .pass }
                return Verdict.expect(given.allSatisfy { $0.kind == kind }, "\(count) \(kind.rawValue) outcomes", got: render(given))
            }
        }
    }

    /// Every HTTP status class the host meets; each needs an expected outcome kind.
    static let statusClasses = [400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503, 504]

    /// The documented default (docs/conformance.md): 429 is the provider's rate (throttled); a
    /// timeout and server errors may pass; any other client error will not, as the request stands.
    static func defaultKind(_ status: Int) -> SendOutcome.Kind {
        status == 429 ? .throttled : status == 408 || (500...599).contains(status) ? .retryable : .permanent
    }

    /// The kind a plugin built for ABI minor `abiMinor` gives where the fixtures expect `kind`.
    static func expected(_ kind: SendOutcome.Kind, abiMinor: UInt32) -> SendOutcome.Kind {
        kind.compatible(withHostMinor: abiMinor)
    }

    /// Every byte value, thrice, and one more so the encoding ends in padding: a plugin that re-encodes text, drops
    /// a NUL or uses URL-safe base64 fails.
    static let attachmentBytes: [UInt8] = (0..<3).flatMap { _ in (0...255).map(UInt8.init) } + [0x7f]

    /// ABI 1.2: each message carrying a file is either in a request whose body carries the file's bytes (standard
    /// base64 in a JSON string, or raw) and its name, or refused, permanently, as `attachments_unsupported`; never
    /// sent without it.
    static func attachmentsCarried(_ instance: PluginInstance, _ messages: [OutboundMessage], abiMinor: UInt32) -> Verdict {
        guard abiMinor >= 2 else { return .skip("built for ABI 1.\(abiMinor): the host refuses attachments for it without calling it") }
        let file = Attachment(filename: "report 2026 ✓.pdf", contentType: "application/pdf", content: AttachmentBytes(attachmentBytes))
        let encoded = attachmentBytes.withUnsafeBytes { Base64.encode($0) }
        let carrying = messages.map { message in
            var message = message
            message.attachments = [file]
            return message
        }
        let prepared: PreparedSend
        do { prepared = try instance.prepare(carrying) } catch { return .fail(expected: "requests or refusals", actual: error.summary) }
        var problems: [String] = []
        for outcome in prepared.refused where outcome.code != SendOutcome.attachmentsUnsupported || outcome.kind != .permanent {
            problems.append("message \(outcome.messageIndex) refused as \(outcome.kind.rawValue) \(outcome.code): \(outcome.message)")
        }
        for request in prepared.requests {
            // A MIME body wraps base64 at 76 columns: lines joined, it must carry the same text.
            let unwrapped = request.body.filter { $0 != 0x0d && $0 != 0x0a }
            let carried = BodyContent.carries(encoded, in: request.body) || unwrapped.firstRange(of: Array(encoded.utf8)) != nil
                || request.body.firstRange(of: attachmentBytes) != nil
            if !carried || !BodyContent.carries(file.filename, in: request.body) {
                problems.append("the request for messages \(request.messageIndices) does not carry the file's bytes and name")
            }
        }
        return Verdict.expect(problems.isEmpty, "each message's file in its request, or a permanent attachments_unsupported",
                              got: problems.prefix(3).joined(separator: "; "))
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
}
