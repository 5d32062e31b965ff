import Dispatch
import HostCore
import ProviderModel
import Synchronization

/// One instance shared by many threads, as the host shares it between its
/// workers: every call must give what it gives on one thread.
enum ConcurrencyChecks: CheckGroup {
    static let name = "concurrency"

    static func run(_ context: GroupContext) {
        guard let instance = context.sharedInstance() else { return }
        let calls = InterfaceCall.all(context)
        let threads = 8
        let rounds = context.options.underValgrind ? 3 : 40

        context.check("\(threads) threads × \(rounds) rounds of \(calls.count) calls on one instance agree with one thread") {
            let reference = calls.map { $0.run(instance) }
            let second = calls.map { $0.run(instance) }
            // A call that differs between two runs on one thread (random boundaries, nonces) is compared by shape only.
            let stable = zip(reference, second).map { $0 == $1 }
            let mismatches = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: threads) { thread in
                for round in 0..<rounds {
                    for (index, call) in calls.enumerated() {
                        let result = call.run(instance)
                        let agrees = stable[index] ? result == reference[index] : shape(result) == shape(reference[index])
                        if !agrees {
                            mismatches.withLock { $0.append("thread \(thread) round \(round) \(call.name): \(result.prefix(120))") }
                        }
                    }
                }
            }
            let found = mismatches.withLock { $0 }
            return Verdict.expect(found.isEmpty, "the same results on every thread",
                                  got: "\(found.count) differing results, first: \(found.first ?? "")")
        }
    }

    /// What must agree even when nonces differ: success, or the failure's status and field.
    private static func shape(_ rendering: String) -> String {
        rendering.hasPrefix("failure ") ? rendering : "success"
    }
}
