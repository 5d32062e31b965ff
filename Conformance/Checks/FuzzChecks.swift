import Foundation
import HostCore
import ProviderModel

/// Seeded mutation of every input a plugin takes. A plugin may refuse any of
/// them, but must not crash, hang, break the contract, or accept a tampered
/// webhook. A crash is reported by the parent with the input and the seed.
enum FuzzChecks: CheckGroup {
    static let name = "fuzz"

    static func run(_ context: GroupContext) {
        let seed = context.options.seed
        let iterations = context.options.underValgrind ? min(context.options.fuzzIterations, 100) : context.options.fuzzIterations
        guard let instance = context.sharedInstance() else { return }
        let suffix = "(seed \(seed), \(iterations) iterations)"

        context.check("create with mutated configs \(suffix)") {
            var mutator = Mutator(random: SeededGenerator(seed: seed ^ 0x01))
            let valid = context.fixtures.config
            for _ in 0..<iterations {
                var entries = valid
                if !entries.isEmpty {
                    let index = mutator.pick(Array(entries.indices))
                    if mutator.chance(20) { entries[index].name = mutator.string(entries[index].name) } else {
                        entries[index].value = mutator.string(entries[index].value)
                    }
                    if mutator.chance(10) { entries.remove(at: index) }
                }
                CrashWitness.witness("create with config \(entries.map { "\($0.name)=\($0.value)" })")
                _ = failure { _ = try context.plugin.makeInstance(configuration: entries, services: context.services(), hostChecks: false) }
            }
            return .pass
        }

        if context.plugin.sends {
            context.check("prepare with mutated messages \(suffix)") {
                var mutator = Mutator(random: SeededGenerator(seed: seed ^ 0x02))
                for _ in 0..<iterations {
                    var messages = context.messages(Int.random(in: 1...min(3, context.plugin.descriptor.maxBatch), using: &mutator.random))
                    for index in messages.indices where mutator.chance(70) {
                        switch Int.random(in: 0..<7, using: &mutator.random) {
                        case 0: messages[index].subject = mutator.string(messages[index].subject)
                        case 1: messages[index].from = mutator.string(messages[index].from)
                        case 2: messages[index].to = messages[index].to.map { mutator.string($0) }
                        case 3: messages[index].text = mutator.string(messages[index].text)
                        case 4: messages[index].html = mutator.string(messages[index].html)
                        case 5: messages[index].headers = mutator.headers(messages[index].headers)
                        default: messages[index].payload = mutator.string(messages[index].payload)
                        }
                    }
                    let json = (try? JSONEncoder().encode(messages)).map(Array.init) ?? []
                    CrashWitness.witness("prepare of these messages (JSON)", input: json)
                    if let failure = failure(of: { _ = try instance.prepare(messages) }), failure.isContractViolation {
                        return .fail(expected: "requests or a refusal", actual: "\(failure.summary) for \(String(decoding: json, as: UTF8.self).prefix(300))")
                    }
                }
                return .pass
            }

            context.check("interpret mutated responses \(suffix)") {
                var mutator = Mutator(random: SeededGenerator(seed: seed ^ 0x03))
                let recorded = context.fixtures.responses.map(\.response.result)
                let statuses = [200, 201, 202, 204, 207, 400, 401, 403, 404, 409, 413, 422, 429, 500, 502, 503, 504, 0, 999]
                for _ in 0..<iterations {
                    var result = recorded.isEmpty ? HTTPResult(status: 200) : mutator.pick(recorded)
                    result.body = mutator.bytes(result.body)
                    if mutator.chance(30) { result.status = mutator.pick(statuses) }
                    if mutator.chance(30) { result.headers = mutator.headers(result.headers) }
                    let messages = context.messages(Int.random(in: 1...min(3, context.plugin.descriptor.maxBatch), using: &mutator.random))
                    CrashWitness.witness("interpret status \(result.status) headers \(result.headers.map { "\($0.name): \($0.value)" }) for \(messages.count) messages", input: result.body)
                    if let failure = failure(of: { _ = try instance.interpret(result, for: messages) }) {
                        return .fail(expected: "one outcome per message", actual: "\(failure.summary) for status \(result.status), body \(Data(result.body).base64EncodedString())")
                    }
                }
                return .pass
            }
        }

        if context.plugin.receivesWebhooks {
            context.check("verify and parse mutated webhooks \(suffix)") {
                var mutator = Mutator(random: SeededGenerator(seed: seed ^ 0x04))
                let valid = context.fixtures.validWebhooks.map(\.request.webhook)
                let all = context.fixtures.webhooks.map(\.request.webhook)
                guard !all.isEmpty else { return .skip("no webhook fixtures") }
                for _ in 0..<iterations {
                    let original = mutator.pick(all)
                    var request = original
                    if mutator.chance(60) { request.body = mutator.bytes(request.body) }
                    if mutator.chance(40) { request.headers = mutator.headers(request.headers) }
                    let description = "headers \(request.headers.map { "\($0.name): \($0.value)" })"
                    CrashWitness.witness("verify, \(description)", input: request.body)
                    let accepted = instance.verifyOnce(request).status == nil
                    if accepted && valid.contains(original) && request.body != original.body
                        && !WebhookChecks.sameSignedContent(request.body, original.body, rules: context.fixtures.manifest.webhook) {
                        return .fail(expected: "a tampered body refused",
                                     actual: "verify accepted body \(Data(request.body).base64EncodedString()) with \(description)")
                    }
                    if accepted && valid.contains(original), let header = tamperedSignatureHeader(request, original, context.fixtures.manifest.webhook) {
                        return .fail(expected: "a tampered \(header) header refused", actual: "verify accepted \(description)")
                    }
                    CrashWitness.witness("parse, \(description)", input: request.body)
                    _ = failure { _ = try instance.parse(request) }
                }
                return .pass
            }
        }
    }

    /// The signature header whose value a mutation changed so that the original no longer stands in it
    /// (a whole good signature may sit beside others, as in key rotation; a cut or altered one may not).
    static func tamperedSignatureHeader(_ request: InboundWebhook, _ original: InboundWebhook,
                                        _ rules: Fixtures.WebhookRules?) -> String? {
        guard let rules else { return nil }
        let names = Set((rules.signatureHeaders + [rules.signatureHeader].compactMap { $0 }).map { $0.lowercased() })
        for name in names.sorted() {
            guard let before = original.headers.first(named: name) else { continue }
            let after = request.headers.filter { $0.name.lowercased() == name }.map(\.value)
            if !after.contains(where: { $0.contains(before) }) { return name }
        }
        return nil
    }
}
