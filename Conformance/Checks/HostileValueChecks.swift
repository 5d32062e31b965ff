@_spi(Conformance) import HostCore
import ProviderModel

/// Every header and body field a plugin may read, given the values an attacker
/// sends (HostileValue): verify and parse must answer with a status, never trap
/// (the group's process dies and the check names the header and value), hang
/// (stopped, named the same way) or verify a request whose signed header or
/// member no longer holds what was signed. The plugin runs inside the host, so
/// a trap here is the whole platform down from one request.
enum HostileValueChecks: CheckGroup {
    static let name = "hostile"

    /// Header names the providers document for their webhooks: tried on every plugin, so one
    /// that reads a header its fixtures lack is reached too.
    static let documentedHeaders = [
        "webhook-id", "webhook-timestamp", "webhook-signature", "svix-id", "svix-timestamp", "svix-signature",
        "telnyx-timestamp", "telnyx-signature-ed25519", "x-echo-timestamp", "x-echo-signature",
        "x-amz-sns-message-type", "x-amz-sns-message-id", "x-amz-sns-topic-arn", "x-amz-sns-subscription-arn",
        "content-type", "content-length", "date", "user-agent",
    ]

    typealias RawHeaders = [(name: [UInt8], value: [UInt8])]

    static func run(_ context: GroupContext) {
        guard context.plugin.receivesWebhooks else {
            context.check("hostile values") { .skip("the plugin takes no webhooks") }
            return
        }
        guard let instance = context.sharedInstance() else { return }
        let fixtures = context.fixtures
        guard !fixtures.webhooks.isEmpty else {
            context.check("hostile values") { .skip("no webhook fixtures") }
            return
        }
        let values = context.options.underValgrind
            ? HostileValue.fixed.filter { $0.bytes.count < 64 }.prefix(8).map { $0 } : nil
        headerChecks(context, instance, values: values)
        bodyChecks(context, instance, values: values)
        replayCheck(context)
    }

    // MARK: headers

    private static func headerChecks(_ context: GroupContext, _ instance: PluginInstance, values fixedValues: [HostileValue]?) {
        let fixtures = context.fixtures
        let rules = fixtures.manifest.webhook
        let signed = Set(((rules?.signatureHeaders ?? []) + [rules?.signatureHeader].compactMap { $0 }).map { $0.lowercased() })
        var names: [String] = []
        for fixture in fixtures.webhooks {
            for header in fixture.request.webhook.headers where !names.contains(header.name.lowercased()) {
                names.append(header.name.lowercased())
            }
        }
        names += documentedHeaders.filter { !names.contains($0) }

        for name in names {
            let carries = { (fixture: Fixtures.WebhookCase) in fixture.request.webhook.headers.first(named: name) != nil }
            guard let base = fixtures.validWebhooks.first(where: carries) ?? fixtures.webhooks.first(where: carries)
                    ?? fixtures.validWebhooks.first ?? fixtures.webhooks.first else { continue }
            let original = base.request.webhook
            let genuine = original.headers.first(named: name)
            let guarded = base.verify == "ok" && genuine != nil && signed.contains(name)
            let title = "hostile values: header \(name) \(genuine == nil ? "added to" : "in") \(base.file), replaced and repeated:"
                + " verify and parse answer a status\(guarded ? ", verify never ok while the signed value is gone" : "")"
            context.check(title) {
                let values = fixedValues ?? HostileValue.all(replacing: Array((genuine ?? "").utf8))
                for value in values {
                    for (mode, headers) in variants(of: original.headers, name: name, value: value.bytes) {
                        let what = "header \(name) = \(value.label) (\(mode))"
                        if let problem = call(instance, original, headers: headers, what: what, value: value.bytes,
                                              mustRefuse: guarded && mode == "replaced") {
                            return problem
                        }
                    }
                }
                return .pass
            }
        }
    }

    /// The header list with `name` given `value`: in place of the genuine value, and as a second
    /// header after and before it (a plugin must not check one copy and sign another).
    static func variants(of headers: [KeyValue], name: String, value: [UInt8]) -> [(String, RawHeaders)] {
        let raw: RawHeaders = headers.map { (Array($0.name.utf8), Array($0.value.utf8)) }
        let hostile = (name: Array(name.utf8), value: value)
        guard let index = headers.firstIndex(where: { $0.name.lowercased() == name }) else {
            return [("added", raw + [hostile]), ("added twice", raw + [hostile, hostile])]
        }
        var replaced = raw
        replaced[index].value = value
        var before = raw
        before.insert(hostile, at: index)
        return [("replaced", replaced), ("repeated after the genuine one", raw + [hostile]), ("repeated before the genuine one", before)]
    }

    // MARK: body fields

    /// A place in a body that takes a hostile value: a JSON member or a word of a text line.
    struct BodyField {
        var label: String
        var genuine: [UInt8]
        var isNumber: Bool
        /// The top-level member it lies in, for schemes that sign members rather than bytes.
        var top: String?
        /// Below the top level, where a long value costs a parse of the whole document per call.
        var deep: Bool
        /// The body with the value in place, as a raw JSON token when the flag is set, else as a JSON
        /// string (in a text body: the bytes themselves).
        var body: ([UInt8], Bool) -> [UInt8]
    }

    private static func bodyChecks(_ context: GroupContext, _ instance: PluginInstance, values fixedValues: [HostileValue]?) {
        let fixtures = context.fixtures
        let rules = fixtures.manifest.webhook
        // Where the signature covers members, not bytes: the members it covers (a change to another may verify).
        let covered: Set<String>? = rules?.signedContent == .fields
            ? Set((rules?.signedFields ?? []) + (rules?.signatureFields ?? []) + [rules?.signatureField].compactMap { $0 }) : nil
        var seen: Set<String> = []
        for fixture in fixtures.validWebhooks + fixtures.webhooks.filter({ $0.verify != "ok" }) {
            let original = fixture.request.webhook
            let headers: RawHeaders = original.headers.map { (Array($0.name.utf8), Array($0.value.utf8)) }
            let fields: [BodyField]
            if let document = JSONValue.parse(original.body), case .object = document {
                fields = HostileJSON.leaves(document).compactMap { leaf in
                    guard !leaf.path.isEmpty else { return nil }
                    let top: String? = if case .member(let member)? = leaf.path.first { member } else { nil }
                    let genuine = if case .string(let text) = leaf.leaf { Array(text.utf8) } else { leaf.leaf.compactBytes }
                    let isNumber = if case .number = leaf.leaf { true } else { false }
                    return BodyField(label: "body member \(HostileJSON.describe(leaf.path))", genuine: genuine, isNumber: isNumber,
                                     top: top, deep: leaf.path.count > 1) { token, raw in
                        HostileJSON.render(document, replacing: leaf.path[...], with: raw ? token : HostileJSON.quoted(token))
                    }
                }
            } else {
                fields = words(of: original.body).map { word in
                    BodyField(label: "word \(word.index + 1) of the body's first line", genuine: Array(original.body[word.range]),
                              isNumber: false, top: nil, deep: false) { token, _ in
                        var body = original.body
                        body.replaceSubrange(word.range, with: token)
                        return body
                    }
                }
            }
            for field in fields where seen.insert(field.label).inserted {
                let guarded = fixture.verify == "ok" && (covered.map { field.top.map($0.contains) ?? false } ?? true)
                let title = "hostile values: \(field.label) in \(fixture.file): verify and parse answer a status"
                    + (guarded ? ", verify never ok" : "")
                context.check(title) {
                    for value in fixedValues ?? HostileValue.all(replacing: field.genuine, large: field.deep ? 1 << 16 : HostileValue.megabyte) {
                        var webhook = original
                        webhook.body = field.body(value.bytes, value.isNumber && field.isNumber)
                        let what = "\(field.label) = \(value.label)"
                        if let problem = call(instance, webhook, headers: headers, what: what, value: value.bytes,
                                              mustRefuse: guarded) {
                            return problem
                        }
                    }
                    return .pass
                }
            }
        }
    }

    /// The space-separated words of a text body's first line (the echo protocol's fields).
    private static func words(of body: [UInt8]) -> [(index: Int, range: Range<Int>)] {
        let end = body.firstIndex(of: UInt8(ascii: "\n")) ?? body.count
        var words: [(Int, Range<Int>)] = []
        var start = 0
        for position in 0...end where position == end || body[position] == UInt8(ascii: " ") {
            if position > start { words.append((words.count, start..<position)) }
            start = position + 1
        }
        return words.count <= 16 ? words : []
    }

    // MARK: replay

    /// A stale request with a fresh timestamp header beside the signed one: a plugin that
    /// checks the age of one copy and the signature over the other lets any old request replay.
    private static func replayCheck(_ context: GroupContext) {
        guard let rules = context.fixtures.manifest.webhook, let tolerance = rules.toleranceSeconds,
              let skew = rules.staleSkewMs else { return }
        let now = context.fixtures.manifest.nowMs / 1000
        for fixture in context.fixtures.validWebhooks.prefix(1) {
            let original = fixture.request.webhook
            // The fixture's header is as much outside input as the plugin's: read with bounds, compared without overflow.
            guard let header = rules.signatureHeaders.first(where: { name in
                original.headers.first(named: name)
                    .flatMap { try? BoundedInteger.parse($0, in: Int64.min...Int64.max) }
                    .map { BoundedInteger.isWithin($0, tolerance, of: now) } ?? false
            }) else { continue }
            context.check("hostile values: \(fixture.file) stale, with a fresh \(header) repeated beside the signed one → never ok") {
                let stale: PluginInstance
                do {
                    stale = try context.instance(skewMs: skew)
                } catch {
                    return .fail(expected: "an instance", actual: error.summary)
                }
                let fresh = Array(String((context.fixtures.manifest.nowMs + skew) / 1000).utf8)
                for (mode, headers) in variants(of: original.headers, name: header.lowercased(), value: fresh).dropFirst() {
                    if let problem = call(stale, original, headers: headers, what: "a fresh \(header) \(mode)", value: fresh,
                                          mustRefuse: true) {
                        return problem
                    }
                }
                return .pass
            }
        }
    }

    // MARK: one request

    /// Verify and parse of one request, in guarded memory; a verdict when either broke the contract.
    private static func call(_ instance: PluginInstance, _ webhook: InboundWebhook, headers: RawHeaders, what: String,
                             value: [UInt8], mustRefuse: Bool) -> Verdict? {
        let memory = GuardedMemory()
        let request = memory.request(webhook, rawHeaders: headers)
        memory.seal()
        let shown = value.count > 256 ? [] : value
        CrashWitness.witness("verify with \(what)", input: shown)
        let verified = instance.verifyOnce(cRequest: request).status
        if let verified, verified.isContractViolation {
            return .fail(expected: "a status", actual: "verify with \(what): \(verified.summary)")
        }
        if verified == nil && mustRefuse {
            return .fail(expected: "a refusal: what was signed is no longer there", actual: "verify answered ok with \(what)")
        }
        CrashWitness.witness("parse with \(what)", input: shown)
        if let parsed = failure(of: { _ = try instance.parse(cRequest: request) }), parsed.isContractViolation {
            return .fail(expected: "events or a status", actual: "parse with \(what): \(parsed.summary)")
        }
        return nil
    }
}
