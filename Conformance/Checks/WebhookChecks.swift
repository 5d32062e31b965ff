import Foundation
import HostCore
import ProviderModel

/// Verification of signed webhooks and parsing of their events. Every valid
/// fixture is also turned into attacks: tampered body and signature, wrong
/// secret, another message's signature, a shifted clock, missing headers and
/// malformed encodings; each must fail for its own reason.
enum WebhookChecks: CheckGroup {
    static let name = "webhooks"

    static func run(_ context: GroupContext) {
        guard context.plugin.receivesWebhooks else {
            context.check("webhook interface") { .skip("the plugin takes no webhooks") }
            return
        }
        let fixtures = context.fixtures
        guard let instance = context.sharedInstance() else { return }
        let valid = fixtures.validWebhooks
        context.check("fixtures include signed webhooks and the rules to attack them") {
            Verdict.expect(!valid.isEmpty && fixtures.manifest.webhook != nil,
                           "at least one webhook fixture with verify \"ok\", and a \"webhook\" section in fixtures.json",
                           got: "\(valid.count) valid webhook fixtures, webhook section \(fixtures.manifest.webhook == nil ? "missing" : "present")")
        }

        for fixture in fixtures.webhooks {
            context.check("verify \(fixture.file): \(fixture.description) → \(fixture.verify)") {
                let status = verify(instance, fixture.request.webhook)
                return Verdict.expect(status.rawValue == fixture.verify, fixture.verify, got: status.rawValue)
            }
        }

        if let rules = fixtures.manifest.webhook {
            for fixture in valid {
                attacks(on: fixture, rules: rules, instance: instance, context: context)
            }
            if valid.count >= 2 {
                context.check("a signature made for another message is refused") {
                    let pairs = zip(valid, valid.dropFirst() + [valid[0]]).filter { $0.0.request.webhook.body != $0.1.request.webhook.body }
                    guard let (first, second) = pairs.first else { return .skip("all valid fixtures have the same body") }
                    var crossed = first.request.webhook
                    crossed.body = second.request.webhook.body
                    let status = verify(instance, crossed)
                    return Verdict.expect(status == .signatureInvalid, "signature_invalid (headers of \(first.file), body of \(second.file))",
                                          got: status.rawValue)
                }
            }
        }

        for fixture in fixtures.webhooks {
            guard let expected = fixture.events else { continue }
            context.check("parse \(fixture.file) gives its \(expected.count) normalised events") {
                let events: [DeliveryEvent]
                do {
                    events = try instance.parse(fixture.request.webhook)
                } catch {
                    return .fail(expected: "\(expected.count) events", actual: error.summary)
                }
                guard events.count == expected.count else {
                    return .fail(expected: "\(expected.count) events", actual: "\(events.count): \(events.map(\.type.rawValue))")
                }
                var problems: [String] = []
                for (index, (event, fields)) in zip(events, expected).enumerated() {
                    guard case .object(let actual) = event.document(provider: context.plugin.id) else { continue }
                    for (key, value) in fields.sorted(by: { $0.key < $1.key }) where actual[key] ?? .null != value {
                        problems.append("event \(index) \(key): \(describe(actual[key] ?? .null)), not \(describe(value))")
                    }
                }
                return Verdict.expect(problems.isEmpty, "the fixture's events", got: problems.joined(separator: "; "))
            }
        }

        for fixture in fixtures.validWebhooks {
            guard let expected = fixture.events else { continue }
            for (name, suffix) in [("a trailing newline", "\n"), ("a trailing CRLF", "\r\n"), ("trailing spaces and a tab", "  \t")] {
                context.check("parsing: \(fixture.file) with \(name) gives the same \(expected.count) events") {
                    var request = fixture.request.webhook
                    request.body += Array(suffix.utf8)
                    let plain: [DeliveryEvent], padded: [DeliveryEvent]
                    do {
                        plain = try instance.parse(fixture.request.webhook)
                        padded = try instance.parse(request)
                    } catch {
                        return .fail(expected: "the fixture's events", actual: error.summary)
                    }
                    let id = context.plugin.id
                    let same = plain.map { $0.document(provider: id).compactText } == padded.map { $0.document(provider: id).compactText }
                    return Verdict.expect(same, "\(plain.count) events equal to the fixture's", got: "\(padded.map(\.type.rawValue))")
                }
            }
        }

        lineEndings(context, instance)

        context.check("parsing: fixtures.json documents the event table (event_types)") {
            Verdict.expect(!(fixtures.manifest.eventTypes ?? []).isEmpty,
                           "an event_types table: every event name the provider sends and its type", got: "none")
        }
        for table in fixtures.manifest.eventTypes ?? [] {
            guard let template = fixtures.webhooks.first(where: { $0.file == table.fixture }) else { continue }
            let body = template.request.webhook.body
            for (name, mapped) in table.map.sorted(by: { $0.key < $1.key }) {
                let parts = mapped.split(separator: ":").map(String.init)
                let place = (fixtures.manifest.eventTypes?.count ?? 0) > 1 ? " (in \(table.fixture))" : ""
                context.check("parsing: event \"\(name)\"\(place) maps to \(mapped)") {
                    guard body.firstRange(of: Array(table.replace.utf8)) != nil else {
                        return .fail(expected: "\(table.fixture)'s body to contain \"\(table.replace)\"", actual: "it does not")
                    }
                    var request = template.request.webhook
                    request.body = table.body(body, naming: name)
                    let events: [DeliveryEvent]
                    do {
                        events = try instance.parse(request)
                    } catch {
                        return .fail(expected: "an event of type \(mapped)", actual: error.summary)
                    }
                    guard let event = events.first else { return .fail(expected: "an event of type \(mapped)", actual: "no events") }
                    let got = event.type.rawValue + (parts.count > 1 ? ":" + (event.bounceClass?.rawValue ?? "none") : "")
                    return Verdict.expect(got == mapped, mapped, got: got)
                }
            }
        }

        context.check("fixtures cover an event type the plugin does not know (it must map to unknown)") {
            let covered = fixtures.webhooks.contains { $0.events?.contains { $0["type"] == .string("unknown") } ?? false }
            return Verdict.expect(covered, "a webhook fixture whose expected events include type unknown", got: "none")
        }

        let garbage: [(String, [UInt8])] = [
            ("an empty body", []), ("a lone brace", Array("{".utf8)), ("plain text", Array("not a webhook body".utf8)),
            ("binary bytes", [0xff, 0xfe, 0x00, 0x01, 0x80]), ("JSON null", Array("null".utf8)),
        ]
        for (name, body) in garbage {
            context.check("parse refuses \(name)") {
                var request = valid.first?.request.webhook ?? InboundWebhook(headers: [], body: [])
                request.body = body
                CrashWitness.witness("parse of \(name)", input: body)
                guard let failure = failure(of: { _ = try instance.parse(request) }) else {
                    return .fail(expected: "an error (malformed)", actual: "events were parsed")
                }
                return Verdict.expect(failure.status == .malformed || failure.status == .invalidArgument,
                                      "status malformed", got: failure.summary)
            }
        }
    }

    /// The body's lines ended every way a sender or a proxy may end them, and without the final
    /// line end. Parse must give the same events from LF, CRLF and no final newline (CR alone: the
    /// same events or a refusal, never others); verify must refuse each where the signature covers
    /// the bytes, since none is the body that was signed.
    static func lineEndingForms(_ body: [UInt8]) -> [(name: String, body: [UInt8], sameEventsRequired: Bool)] {
        var lines: [[UInt8]] = [[]]
        var index = 0
        while index < body.count {
            let byte = body[index]
            if byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") {
                lines.append([])
                if byte == UInt8(ascii: "\r"), index + 1 < body.count, body[index + 1] == UInt8(ascii: "\n") { index += 1 }
            } else {
                lines[lines.count - 1].append(byte)
            }
            index += 1
        }
        guard lines.count > 1 else {
            // One line without an end: the forms are its possible ends.
            return [("a final LF", body + [0x0a], true), ("a final CRLF", body + [0x0d, 0x0a], true), ("a final CR", body + [0x0d], false)]
        }
        let trailing = lines.last?.isEmpty ?? false
        let content = trailing ? Array(lines.dropLast()) : lines
        func joined(_ end: String, final: Bool) -> [UInt8] {
            Array(content.map { String(decoding: $0, as: UTF8.self) }.joined(separator: end).utf8) + (final ? Array(end.utf8) : [])
        }
        let forms: [(String, [UInt8], Bool)] = [
            ("LF line ends", joined("\n", final: trailing), true),
            ("CRLF line ends", joined("\r\n", final: trailing), true),
            ("CR line ends", joined("\r", final: trailing), false),
            ("no line end after the last line", joined("\n", final: false), true),
        ]
        return forms.filter { $0.1 != body }
    }

    private static func lineEndings(_ context: GroupContext, _ instance: PluginInstance) {
        let rules = context.fixtures.manifest.webhook
        let id = context.plugin.id
        for fixture in context.fixtures.validWebhooks {
            let original = fixture.request.webhook
            for form in lineEndingForms(original.body) {
                if fixture.events != nil {
                    context.check("parsing: \(fixture.file) with \(form.name) gives the same events\(form.sameEventsRequired ? "" : " or a refusal")") {
                        var request = original
                        request.body = form.body
                        let plain: [DeliveryEvent]
                        do {
                            plain = try instance.parse(original)
                        } catch {
                            return .fail(expected: "the fixture's events", actual: error.summary)
                        }
                        CrashWitness.witness("parse of \(fixture.file) with \(form.name)", input: form.body)
                        let changed: [DeliveryEvent]
                        do {
                            changed = try instance.parse(request)
                        } catch {
                            return Verdict.expect(!form.sameEventsRequired, "\(plain.count) events equal to the fixture's", got: error.summary)
                        }
                        let same = plain.map { $0.document(provider: id).compactText } == changed.map { $0.document(provider: id).compactText }
                        return Verdict.expect(same, "\(plain.count) events equal to the fixture's",
                                              got: "\(changed.count) events: \(changed.map { $0.document(provider: id).compactText }.joined(separator: " ").prefix(300))")
                    }
                }
                guard !sameSignedContent(form.body, original.body, rules: rules) else { continue }
                context.check("\(fixture.file): \(form.name) → refused, the body is not the one signed") {
                    var request = original
                    request.body = form.body
                    let status = verify(instance, request)
                    return Verdict.expect(status != .ok, "a refusal", got: status.rawValue)
                }
            }
        }
    }

    private static func attacks(on fixture: Fixtures.WebhookCase, rules: Fixtures.WebhookRules,
                                instance: PluginInstance, context: GroupContext) {
        let original = fixture.request.webhook
        let label = fixture.file

        func expect(_ name: String, _ request: InboundWebhook, _ allowed: [PluginStatus], on target: PluginInstance? = nil) {
            context.check("\(label): \(name) → \(allowed.map(\.rawValue).joined(separator: " or "))") {
                let status = verify(target ?? instance, request)
                return Verdict.expect(allowed.contains(status), allowed.map(\.rawValue).joined(separator: " or "), got: status.rawValue)
            }
        }

        var tampered = original
        if tampered.body.isEmpty { tampered.body = Array("x".utf8) } else { tampered.body[tampered.body.count / 2] ^= 0x01 }
        switch rules.signedContent {
        case .body:
            expect("tampered body", tampered, [.signatureInvalid])
            var appended = original
            appended.body += Array(" ".utf8)
            expect("a byte appended to the body", appended, [.signatureInvalid])
        case .fields:
            // A flipped byte may break the JSON itself, which is refused as malformed.
            if !sameSignedContent(tampered.body, original.body, rules: rules) {
                expect("tampered body", tampered, [.signatureInvalid, .malformed])
            }
            if let field = rules.tamperField {
                expect("signed member \(field) changed", editingBody(original) { $0[field] = .string(($0[field]?.stringValue ?? "") + " ") },
                       [.signatureInvalid])
            }
        }

        if let header = rules.signatureHeader, let value = original.headers.first(named: header) {
            var garbled = original
            garbled.headers = replacing(header, in: original.headers, with: flipOneCharacter(value))
            expect("tampered signature", garbled, [.signatureInvalid, .signatureEncoding])

            var malformed = original
            malformed.headers = replacing(header, in: original.headers, with: String(value.dropLast(8)) + "%%%%!!**")
            expect("malformed signature encoding", malformed, [.signatureEncoding, .signatureInvalid])
        }
        // A value that already lists several signatures (rotation) is attacked as a whole by the checks above only.
        if let header = rules.signatureHeader, let value = original.headers.first(named: header),
           !(rules.signatureSeparator.map { value.contains($0) } ?? false) {
            for (name, forged) in forgeries(of: value) {
                var attacked = original
                attacked.headers = replacing(header, in: original.headers, with: forged)
                expect("signature attack, \(name)", attacked, refusals)
            }
            if let separator = rules.signatureSeparator {
                var rotated = original
                rotated.headers = replacing(header, in: original.headers, with: flipOneCharacter(value) + separator + value)
                expect("signature attack, several signatures (rotation) with the good one last", rotated, [.ok])
                var forgedOnly = original
                forgedOnly.headers = replacing(header, in: original.headers,
                                               with: flipOneCharacter(value) + separator + flipOneCharacter(String(value.reversed())))
                expect("signature attack, several signatures none of them good", forgedOnly, refusals)
            }
        }
        if let field = rules.signatureField, let value = bodyObject(original)?[field]?.stringValue {
            for (name, forged) in forgeries(of: value) {
                expect("signature attack on member \(field), \(name)", editingBody(original) { $0[field] = .string(forged) }, refusals)
            }
            expect("tampered signature", editingBody(original) { $0[field] = .string(flipOneCharacter(value)) },
                   [.signatureInvalid, .signatureEncoding])
            expect("malformed signature encoding",
                   editingBody(original) { $0[field] = .string(String(value.dropLast(8)) + "%%%%!!**") },
                   [.signatureEncoding, .signatureInvalid])
        }

        for header in rules.signatureHeaders {
            var missing = original
            missing.headers.removeAll { $0.name.lowercased() == header.lowercased() }
            expect("missing \(header)", missing, [.signatureMissing])
        }
        for field in rules.signatureFields {
            expect("missing body member \(field)", editingBody(original) { $0[field] = nil }, [.signatureMissing])
        }

        if let wrongSecret = rules.wrongSecret {
            context.check("\(label): wrong secret → signature_invalid") {
                let other: PluginInstance
                do {
                    other = try context.instance(config: context.fixtures.config(replacing: wrongSecret))
                } catch {
                    return .fail(expected: "an instance with the fixture's wrong_secret config", actual: error.summary)
                }
                let status = verify(other, original)
                return Verdict.expect(status == .signatureInvalid, "signature_invalid", got: status.rawValue)
            }
        }

        guard let tolerance = rules.toleranceSeconds, let skew = rules.staleSkewMs else { return }
        for (name, skew) in [("stale", skew), ("future", -skew)] {
            context.check("\(label): \(name) timestamp beyond \(tolerance) s → signature_expired") {
                let shifted: PluginInstance
                do {
                    shifted = try context.instance(skewMs: skew)
                } catch {
                    return .fail(expected: "an instance", actual: error.summary)
                }
                let status = verify(shifted, original)
                return Verdict.expect(status == .signatureExpired, "signature_expired", got: status.rawValue)
            }
        }
    }

    /// Any refusal of a forged signature: the reasons a plugin may give.
    static let refusals: [PluginStatus] = [.signatureInvalid, .signatureEncoding, .signatureMissing, .malformed]

    /// Forgeries of a signature value on an unchanged body: none of them may verify.
    static func forgeries(of value: String) -> [(String, String)] {
        var forged: [(String, String)] = [
            ("empty value", ""),
            // Base64 padding carries no bytes: two characters of the signature itself go.
            ("truncated by two characters", String(String(value.reversed().drop { $0 == "=" }.reversed()).dropLast(2))),
            ("truncated to half", String(value.prefix(value.count / 2))),
            ("padded with AA", value + "AA"),
            ("padded with ==", value + "=="),
            ("repeated", value + value),
            ("halves reordered", String(value.suffix(value.count - value.count / 2)) + String(value.prefix(value.count / 2))),
        ]
        // A scheme prefix such as v1= or v1, alone, without the signature after it.
        if let separator = value.prefix(8).firstIndex(where: { $0 == "=" || $0 == "," || $0 == ":" }) {
            forged.append(("scheme prefix alone", String(value[...separator])))
        }
        return forged.filter { $0.1 != value }
    }

    /// The status verify ends with: ok, or the reason it refused.
    static func verify(_ instance: PluginInstance, _ request: InboundWebhook) -> PluginStatus {
        CrashWitness.witness("verify \(request.headers.map { "\($0.name): \($0.value)" })", input: request.body)
        return instance.verifyOnce(request).status?.status ?? .ok
    }

    /// Whether two bodies carry the same signed content: the same bytes, or, when the
    /// signature covers JSON members, the same values of the signed members however the body is laid out.
    static func sameSignedContent(_ a: [UInt8], _ b: [UInt8], rules: Fixtures.WebhookRules?) -> Bool {
        if a == b { return true }
        guard let rules, rules.signedContent == .fields,
              case .object(let left)? = JSONValue.parse(a), case .object(let right)? = JSONValue.parse(b) else { return false }
        let keys = rules.signedFields.isEmpty ? Set(left.keys).union(right.keys) : Set(rules.signedFields)
        return keys.allSatisfy { left[$0] == right[$0] }
    }

    private static func bodyObject(_ request: InboundWebhook) -> [String: JSONValue]? {
        guard case .object(let object)? = JSONValue.parse(request.body) else { return nil }
        return object
    }

    /// The request with its JSON body's members edited and the body written again.
    private static func editingBody(_ request: InboundWebhook, _ edit: (inout [String: JSONValue]) -> Void) -> InboundWebhook {
        guard var object = bodyObject(request) else { return request }
        edit(&object)
        var edited = request
        edited.body = Array(JSONValue.object(object).compactText.utf8)
        return edited
    }

    private static func replacing(_ name: String, in headers: [KeyValue], with value: String) -> [KeyValue] {
        headers.map { $0.name.lowercased() == name.lowercased() ? KeyValue($0.name, value) : $0 }
    }

    /// The same value with one signature character changed to another of its alphabet.
    private static func flipOneCharacter(_ value: String) -> String {
        var characters = Array(value)
        // The middle, not the end: the last base64 character may carry only padding bits.
        let candidates = characters.indices.filter { characters[$0].isLetter || characters[$0].isNumber }
        guard !candidates.isEmpty else { return value + "A" }
        let index = candidates[candidates.count / 2]
        characters[index] = characters[index] == "A" ? "B" : (characters[index] == "0" ? "1" : (characters[index].isNumber ? "0" : "A"))
        return String(characters)
    }

    private static func describe(_ value: JSONValue) -> String {
        guard let data = try? JSONEncoder().encode(value) else { return "?" }
        return String(decoding: data, as: UTF8.self)
    }
}
