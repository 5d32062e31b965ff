#if canImport(Glibc)
import Glibc
#endif
import CMalloc
import HostCore
import ProviderModel

/// Leaks: every interface is called thousands of times, on its success paths
/// and on its error paths, and the heap must stop growing. A leak grows the
/// heap in every window of calls; a cache or a lazily built table grows it
/// once. Under valgrind (`--valgrind`) the child's exit also reports definite
/// leaks and invalid accesses, which fail the group.
enum MemoryChecks: CheckGroup {
    static let name = "memory"

    /// Bytes per call that every window must grow by to count as a leak: a
    /// 32-byte block (48 with malloc's header) a call shows at three times this.
    static let leakPerCall = 16
    static let windows = 3
    /// Slow calls (SES's RSA verification in a debug build, say) get windows that take about this long,
    /// never fewer than `leastPerWindow` calls: a 32-byte leak still grows every window three times past
    /// the threshold, and a one-off growth (a cache) is still left behind in some window.
    static let windowBudget: Duration = .milliseconds(150)
    static let leastPerWindow = 200

    static func run(_ context: GroupContext) {
        guard let instance = context.sharedInstance() else { return }
        let calls = InterfaceCall.all(context) + errorPaths(context)
        let perWindow = context.options.underValgrind ? 10 : 300

        context.check("create and destroy instances, called in \(windows) windows: the heap stops growing") {
            steady(perWindow) { _ = try? context.instance() }
        }
        let invalid = context.fixtures.manifest.invalidConfigs.compactMap { try? PluginConfiguration.entries(fromJSON: $0.config) }
            + context.plugin.descriptor.configKeys.filter(\.required).map { key in context.fixtures.config.filter { $0.name != key.name } }
        if !invalid.isEmpty {
            context.check("create refused (\(invalid.count) invalid configs), called in \(windows) windows: the heap stops growing") {
                var round = 0
                return steady(perWindow) {
                    _ = try? context.plugin.makeInstance(configuration: invalid[round % invalid.count], services: context.services(),
                                                         hostChecks: false)
                    round += 1
                }
            }
        }
        for call in calls {
            context.check("\(call.name), called in \(windows) windows: the heap stops growing") {
                steady(perWindow) { _ = call.run(instance) }
            }
        }
    }

    /// The calls that fail or refuse: where a plugin that frees on success forgets to free.
    static func errorPaths(_ context: GroupContext) -> [InterfaceCall] {
        var calls: [InterfaceCall] = []
        let plugin = context.plugin
        if plugin.sends {
            if let channel = plugin.descriptor.channels.first(where: { $0 != .webhook }) {
                var messages = RequestChecks.distinct(min(2, plugin.descriptor.maxBatch), channel: channel, fixtures: context.fixtures)
                messages[messages.count - 1].to = []
                calls.append(InterfaceCall(name: "error path: prepare refusing a message without a recipient") { [messages] instance in
                    String(describing: try? instance.prepare(messages, hostChecks: false))
                })
            }
            let tooMany = context.messages(plugin.descriptor.maxBatch + 1)
            calls.append(InterfaceCall(name: "error path: prepare of max_batch + 1 messages") { instance in
                String(describing: try? instance.prepare(tooMany, hostChecks: false))
            })
            let messages = context.messages(1)
            for (label, result) in [("500 with a garbage body", HTTPResult(status: 500, body: Array("<html>".utf8))),
                                    ("400 with an empty body", HTTPResult(status: 400)),
                                    ("429 with a Retry-After date", HTTPResult(status: 429, headers: [KeyValue("retry-after", "Tue, 14 Nov 2023 22:13:27 GMT")])),
                                    ("a transport failure", HTTPResult(failure: .connect, message: "refused"))] {
                calls.append(InterfaceCall(name: "error path: interpret \(label)") { instance in
                    String(describing: try? instance.interpret(result, for: messages))
                })
            }
        }
        if plugin.receivesWebhooks, let valid = context.fixtures.validWebhooks.first?.request.webhook {
            var tampered = valid
            tampered.body += Array("x".utf8)
            var variants: [(String, InboundWebhook)] = [("a tampered body", tampered)]
            if let rules = context.fixtures.manifest.webhook {
                for header in rules.signatureHeaders {
                    var missing = valid
                    missing.headers.removeAll { $0.name.lowercased() == header.lowercased() }
                    variants.append(("without \(header)", missing))
                }
                if let header = rules.signatureHeader {
                    var garbled = valid
                    garbled.headers = valid.headers.map { $0.name.lowercased() == header.lowercased() ? KeyValue($0.name, "%%garbled%%") : $0 }
                    variants.append(("a garbled \(header)", garbled))
                }
            }
            for (label, request) in variants {
                calls.append(InterfaceCall(name: "error path: verify \(label)") { instance in
                    instance.verifyOnce(request).status?.status.rawValue ?? "ok"
                })
            }
            var garbage = valid
            garbage.body = Array("{\"not\": \"an event\"".utf8)
            calls.append(InterfaceCall(name: "error path: parse of a garbage body") { [garbage] instance in
                (try? instance.parse(garbage)).map { "\($0.count)" } ?? "failure"
            })
        }
        return calls
    }

    /// Runs `body` for a warm-up, then `windows` windows of up to `wanted` calls (fewer for a slow call,
    /// see `windowBudget`); a leak grows the heap in every window, so the smallest growth decides.
    static func steady(_ wanted: Int, _ body: () -> Void) -> Verdict {
        let warmUp = min(wanted, 100)
        let took = ContinuousClock().measure { for _ in 0..<warmUp { body() } }
        let perWindow = windowSize(wanted, warmUp: warmUp, took: took)
        var growths: [Int] = []
        for _ in 0..<windows {
            let before = heapInUse()
            for _ in 0..<perWindow { body() }
            growths.append(heapInUse() - before)
        }
        let least = growths.min() ?? 0
        return Verdict.expect(least < leakPerCall * perWindow || perWindow < 100,
                              "less than \(leakPerCall) bytes of heap growth per call in at least one of \(windows) windows of \(perWindow) calls",
                              got: "\(growths.map { "\($0 / perWindow)" }.joined(separator: ", ")) bytes per call in each window")
    }

    /// Calls per window: `wanted`, or as many as fit in `windowBudget` at the warm-up's pace, at least `leastPerWindow`.
    static func windowSize(_ wanted: Int, warmUp: Int, took: Duration) -> Int {
        guard wanted > leastPerWindow, warmUp > 0, took > .zero else { return wanted }
        let fit = windowBudget / (took / warmUp)
        return fit >= Double(wanted) ? wanted : max(leastPerWindow, Int(fit))
    }

    /// Bytes allocated from the heap now, including large blocks malloc mapped on their own.
    static func heapInUse() -> Int {
        let info = mallinfo2()
        return Int(info.uordblks) + Int(info.hblkhd)
    }
}
