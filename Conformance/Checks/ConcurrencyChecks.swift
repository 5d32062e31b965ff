import Dispatch
import Foundation
import HostCore
import ProviderModel
import Synchronization

/// One instance shared by many threads, as the host shares it between its
/// workers: every call must give what it gives on one thread. Threads call
/// with inputs of their own, and every host callback yields the thread
/// (HostServices.interleaves), so a buffer shared between calls shows up
/// every run, not by the luck of two calls overlapping.
enum ConcurrencyChecks: CheckGroup {
    static let name = "concurrency"
    static let threads = 8

    /// A call with one thread's own input, and a rendering of its result to compare.
    struct OwnCall: Sendable {
        var label: String
        var run: @Sendable (PluginInstance) -> String
    }

    static func run(_ context: GroupContext) {
        let instance: PluginInstance
        do {
            instance = try context.instance(interleaves: true)
        } catch {
            context.check("an instance from the fixtures' config") { .fail(expected: "an instance", actual: error.summary) }
            return
        }
        let calls = InterfaceCall.all(context)
        // valgrind runs one thread at a time: its interleavings come from its time slices, and a round costs seconds there.
        let rounds = context.options.underValgrind ? 1 : 20
        let hammer = context.options.underValgrind ? 5 : 300

        context.check("\(threads) threads × \(rounds) rounds of \(calls.count) calls on one instance agree with one thread") {
            let found = agree(calls.map { call in (0..<threads).map { _ in OwnCall(label: call.name, run: call.run) } }, on: instance, rounds: rounds)
            return Verdict.expect(found.isEmpty, "the same results on every thread", got: "\(found.count) differing results, first: \(found.first ?? "")")
        }

        for (kind, perThread) in ownInputs(context) {
            context.check("\(kind) alone from \(threads) threads, each with its own input, \(hammer) times: each gets its own result") {
                let found = agree([perThread], on: instance, rounds: hammer)
                return Verdict.expect(found.isEmpty, "every thread's result equal to the one it gets alone",
                                      got: "\(found.count) differing results, first: \(found.first ?? "")")
            }
        }

        context.check("create, call and destroy on \(threads) threads released together, \(hammer / 3) rounds: each instance gives its own results") {
            let found = lifecycles(context, rounds: hammer / 3)
            return Verdict.expect(found.isEmpty, "every instance's result equal to the one an instance of its config gives alone",
                                  got: "\(found.count) differing results, first: \(found.first ?? "")")
        }

        context.check("instances created and destroyed on \(threads / 2) threads while \(threads / 2) threads call another") {
            let others = otherConfigs(context)
            let plugin = context.plugin
            let services = context.services(interleaves: true)
            let stop = Atomic<Bool>(false)
            let failures = Mutex<[String]>([])
            let references = calls.map { $0.run(instance) }
            let stable = zip(references, calls.map { $0.run(instance) }).map { $0 == $1 }
            Threads.run(threads) { thread in
                if thread < threads / 2 {
                    var round = 0
                    while !stop.load(ordering: .relaxed) && round < hammer * 4 {
                        let config = others[(thread + round) % others.count]
                        if let made = try? plugin.makeInstance(configuration: config, services: services), let call = calls.first {
                            _ = call.run(made)
                        }
                        round += 1
                    }
                } else {
                    for _ in 0..<max(1, hammer / 10) {
                        for (index, call) in calls.enumerated() {
                            let result = call.run(instance)
                            let agrees = stable[index] ? result == references[index] : shape(result) == shape(references[index])
                            if !agrees { failures.withLock { $0.append("\(call.name): \(result.prefix(120))") } }
                        }
                    }
                    stop.store(true, ordering: .relaxed)
                }
            }
            let found = failures.withLock { $0 }
            return Verdict.expect(found.isEmpty, "the shared instance's results unchanged by other instances' lives",
                                  got: "\(found.count) differing results, first: \(found.first ?? "")")
        }
    }

    /// Runs each list of calls (one per thread) on its thread `rounds` times and gives every result
    /// that differs from what the same call gives on one thread.
    static func agree(_ lists: [[OwnCall]], on instance: PluginInstance, rounds: Int) -> [String] {
        let mismatches = Mutex<[String]>([])
        for perThread in lists {
            let reference = perThread.map { $0.run(instance) }
            // A call that differs between two runs on one thread (random boundaries, nonces) is compared by shape only.
            let stable = zip(reference, perThread.map { $0.run(instance) }).map { $0 == $1 }
            let differed = Atomic<Bool>(false)
            // Released together every round: the calls overlap from their first instruction, every round.
            Threads.run(threads, rounds: rounds) { thread, round in
                let call = perThread[thread % perThread.count]
                let index = thread % perThread.count
                let result = call.run(instance)
                let agrees = stable[index] ? result == reference[index] : shape(result) == shape(reference[index])
                if !agrees, !differed.exchange(true, ordering: .relaxed) {
                    mismatches.withLock { $0.append("thread \(thread) round \(round) \(call.label): \(result.prefix(160))") }
                }
            }
        }
        return mismatches.withLock { $0 }
    }

    /// Each thread, every round (all released together): an instance of its own config (the
    /// fixtures' and, on every other thread, the wrong secret), one call, destroyed. A plugin
    /// keeping state in globals (a count of instances, a key, a scratch buffer made by the first
    /// create and freed by the last destroy) crosses instances or frees what another still uses.
    static func lifecycles(_ context: GroupContext, rounds: Int) -> [String] {
        let configs = otherConfigs(context)
        let plugin = context.plugin
        let services = context.services(interleaves: true)
        let probe: InterfaceCall?
        if plugin.receivesWebhooks, let fixture = context.fixtures.validWebhooks.first {
            let request = fixture.request.webhook
            probe = InterfaceCall(name: "verify \(fixture.file)") { instance in
                instance.verifyOnce(request).status.map { "failure \($0.status.rawValue)" } ?? "ok"
            }
        } else {
            probe = InterfaceCall.all(context).first
        }
        guard let probe else { return [] }
        @Sendable func once(_ config: [KeyValue]) -> String {
            do {
                return probe.run(try plugin.makeInstance(configuration: config, services: services))
            } catch {
                return "create failed: \(error.summary)"
            }
        }
        let references = configs.map(once)
        let stable = zip(references, configs.map(once)).map { $0 == $1 }
        let mismatches = Mutex<[String]>([])
        let differed = Atomic<Bool>(false)
        Threads.run(threads, rounds: rounds) { thread, round in
            let index = thread % configs.count
            let result = once(configs[index])
            let agrees = stable[index] ? result == references[index] : shape(result) == shape(references[index])
            if !agrees, !differed.exchange(true, ordering: .relaxed) {
                mismatches.withLock { $0.append("thread \(thread) round \(round) \(probe.name) (config \(index)): \(result.prefix(160)), alone: \(references[index].prefix(80))") }
            }
        }
        return mismatches.withLock { $0 }
    }

    /// For each interface call, one input per thread, each different from the others.
    static func ownInputs(_ context: GroupContext) -> [(String, [OwnCall])] {
        var kinds: [(String, [OwnCall])] = []
        let fixtures = context.fixtures
        if context.plugin.sends {
            let channel = context.channel
            let prepares = (0..<threads).map { thread in
                let message = RequestChecks.distinct(thread + 1, channel: channel, fixtures: fixtures)[thread]
                return OwnCall(label: "prepare message \(thread)") { instance in render { try instance.prepare([message]) } }
            }
            kinds.append(("prepare", prepares))
            let responses = fixtures.responses
            if !responses.isEmpty {
                // Half the threads accept (a provider id written per message), half meet the other answers (codes, texts).
                let accepting = responses.filter { (200...299).contains($0.response.result.status) }
                let others = responses.filter { !(200...299).contains($0.response.result.status) }
                let interprets = (0..<threads).map { thread in
                    let split = !accepting.isEmpty && !others.isEmpty
                    let pool = split ? (thread % 2 == 0 ? accepting : others) : responses
                    let response = pool[(split ? thread / 2 : thread) % pool.count]
                    let messages = context.messages(response.messages).enumerated().map { index, original in
                        var message = original
                        message.id = "msg_t\(thread)_\(index)"
                        message.idempotencyKey = "idem_t\(thread)_\(index)"
                        return message
                    }
                    return OwnCall(label: "interpret \(response.file) for thread \(thread)") { [messages] instance in
                        render { try instance.interpret(response.response.result, for: messages) }
                    }
                }
                kinds.append(("interpret", interprets))
            }
        }
        if context.plugin.receivesWebhooks, !fixtures.validWebhooks.isEmpty {
            let valid = fixtures.validWebhooks
            let verifies = (0..<threads).map { thread in
                var request = valid[thread % valid.count].request.webhook
                // Every other thread sends a tampered body: a verdict kept in shared state crosses over.
                if thread % 2 == 1 { request.body += Array("x".utf8) }
                return OwnCall(label: "verify \(thread % 2 == 1 ? "tampered " : "")\(valid[thread % valid.count].file)") { [request] instance in
                    instance.verifyOnce(request).status.map { "failure \($0.status.rawValue)" } ?? "ok"
                }
            }
            kinds.append(("verify", verifies))
            let parsed = fixtures.webhooks.filter { $0.events != nil }
            if !parsed.isEmpty {
                let parses = (0..<threads).map { thread in
                    let request = parsed[thread % parsed.count].request.webhook
                    return OwnCall(label: "parse \(parsed[thread % parsed.count].file)") { instance in render { try instance.parse(request) } }
                }
                kinds.append(("parse", parses))
            }
        }
        return kinds
    }

    /// Configs for the instances made and destroyed beside the shared one: the wrong secret where there is one.
    private static func otherConfigs(_ context: GroupContext) -> [[KeyValue]] {
        var configs = [context.fixtures.config]
        if let wrong = context.fixtures.manifest.webhook?.wrongSecret { configs.append(context.fixtures.config(replacing: wrong)) }
        return configs
    }

    static func render<T>(_ call: () throws -> T) -> String {
        do {
            return String(describing: try call())
        } catch {
            return "failure \(error.pluginFailure.status.rawValue) \(error.pluginFailure.field)"
        }
    }

    /// What must agree even when nonces differ: success, or the failure's status and field.
    private static func shape(_ rendering: String) -> String {
        rendering.hasPrefix("failure ") ? rendering : "success"
    }
}
