import Foundation
import HostCore
import Logging
import ProviderKit

/// One provider measured both ways: its Swift type called in-process, and
/// its `.so` called through the loaded ABI with the same inputs and clock.
struct ProviderSubject {
    /// One operation: the direct call and the ABI call, which must give the same result.
    struct Case {
        var name: String
        var direct: () throws -> Void
        var abi: () throws -> Void
    }

    let name: String
    let library: String
    let cases: [Case]

    struct Mismatch: Error, CustomStringConvertible {
        var description: String
    }

    /// `Provider` is concrete here, so the direct calls are specialised as a
    /// host linking the provider would compile them.
    init<Provider: MessageSending & WebhookHandling>(
        _ type: Provider.Type, name: String, fixtures: BenchmarkFixtures, plugin: String
    ) throws {
        self.name = name
        self.library = plugin
        let context = LocalContext(nowMilliseconds: fixtures.nowMs, documents: fixtures.documents)
        let direct = try Provider(configuration: PluginConfiguration(unchecked: fixtures.config.dictionary), context: context)

        // The ABI side gets the same clock, and the same documents already in its fetch cache
        // (the client is never called: every document is stored before the first call).
        var fetcher: DocumentFetcher?
        if !fixtures.documents.isEmpty {
            let cache = DocumentFetcher(policy: FetchPolicy(allow: Array(fixtures.documents.keys)), client: CurlHTTPClient())
            for (url, document) in fixtures.documents { cache.store(document, for: url) }
            fetcher = cache
        }
        let loaded = try PluginLoader.load(path: plugin)
        let instance = try loaded.makeInstance(
            configuration: fixtures.config,
            services: HostServices(logger: Logger(label: "bench"), nowMilliseconds: fixtures.nowMs, fetcher: fetcher))

        let maxBatch = Provider.descriptor.maxBatch
        let base = fixtures.message
        var batches: [(String, [OutboundMessage])] = [("prepare, 1 message", [base])]
        if maxBatch > 1 {
            let count = min(10, maxBatch)
            batches.append(("prepare, \(count) messages", (0..<count).map { index in
                var copy = base
                copy.id = "\(base.id)_\(index)"
                copy.idempotencyKey = copy.id
                return copy
            }))
        }
        // A newsletter-sized email: what the pipeline sends most.
        if base.channel == .email {
            var newsletter = base
            newsletter.text = String(repeating: "A paragraph of this week's digest, with a link to read more. ", count: 64)
            newsletter.html = "<html><body>" + String(repeating: "<p>A paragraph of this week's digest.</p>", count: 400) + "</body></html>"
            batches.append(("prepare, 1 newsletter", [newsletter]))
        }

        var cases: [Case] = []
        for (label, messages) in batches {
            // Both paths must agree before their speed means anything.
            let directSend = try direct.prepare(messages, context: context)
            let abiSend = try instance.prepare(messages)
            guard directSend == abiSend else {
                throw Mismatch(description: "\(name) \(label): the direct and ABI paths prepare different requests")
            }
            cases.append(Case(name: label,
                              direct: { _ = try direct.prepare(messages, context: context) },
                              abi: { _ = try instance.prepare(messages) }))
        }
        let webhook = fixtures.webhook
        try direct.verify(webhook, context: context)
        if let failure = instance.verifyOnce(webhook).status {
            throw Mismatch(description: "\(name) verify: the direct call accepts the fixture webhook, the ABI call refuses it: \(failure.message)")
        }
        cases.append(Case(name: "verify",
                          direct: { try direct.verify(webhook, context: context) },
                          abi: { if let failure = instance.verifyOnce(webhook).status { throw failure } }))
        if let (result, messages) = fixtures.answer {
            let directOutcomes = direct.interpret(result, for: messages, context: context)
            guard directOutcomes == (try instance.interpret(result, for: messages)) else {
                throw Mismatch(description: "\(name) interpret: the direct and ABI paths read the fixture answer differently")
            }
            guard directOutcomes.allSatisfy({ $0.kind == .accepted }) else {
                throw Mismatch(description: "\(name) interpret: the fixture answer does not accept every message: \(directOutcomes)")
            }
            cases.append(Case(name: "interpret, \(messages.count) accepted",
                              direct: { _ = direct.interpret(result, for: messages, context: context) },
                              abi: { _ = try instance.interpret(result, for: messages) }))
        }
        self.cases = cases
    }
}
