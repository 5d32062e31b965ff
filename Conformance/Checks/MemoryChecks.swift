#if canImport(Glibc)
import Glibc
#endif
import CMalloc
import HostCore
import ProviderModel

/// Leaks: every interface is called thousands of times and the heap must stop
/// growing. Under valgrind (`--valgrind`) the child's exit also reports
/// definite leaks and invalid accesses, which fail the group.
enum MemoryChecks: CheckGroup {
    static let name = "memory"

    /// Growth of the heap over the second half of a run that a plugin may
    /// show without leaking (allocator caches, lazily built tables).
    static let allowedGrowth = 64 * 1024

    static func run(_ context: GroupContext) {
        let calls = InterfaceCall.all(context)
        guard let instance = context.sharedInstance() else { return }
        let rounds = context.options.underValgrind ? 20 : 2000

        context.check("create and destroy \(rounds) instances: the heap stops growing") {
            steady(rounds) { _ = try? context.instance() }
        }
        for call in calls {
            context.check("\(call.name) × \(rounds): the heap stops growing") {
                steady(rounds) { _ = call.run(instance) }
            }
        }
    }

    /// Runs `body` `rounds` times after a warm-up and compares the heap in use
    /// half-way and at the end: a plugin that leaks grows in both halves.
    static func steady(_ rounds: Int, _ body: () -> Void) -> Verdict {
        for _ in 0..<min(rounds, 100) { body() }
        let half = rounds / 2
        for _ in 0..<half { body() }
        let middle = heapInUse()
        for _ in half..<rounds { body() }
        let growth = heapInUse() - middle
        return Verdict.expect(growth <= allowedGrowth || rounds < 100,
                              "at most \(allowedGrowth / 1024) KiB of heap growth over the last \(rounds - half) calls",
                              got: "\(growth) bytes, \(growth / max(rounds - half, 1)) bytes per call")
    }

    /// Bytes allocated from the heap now, including large blocks malloc mapped on their own.
    static func heapInUse() -> Int {
        let info = mallinfo2()
        return Int(info.uordblks) + Int(info.hblkhd)
    }
}
