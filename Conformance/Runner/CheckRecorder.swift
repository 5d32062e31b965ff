#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The child's side of a group: announces each check before it runs (so a
/// crash or hang is pinned to it) and reports its result, one JSON line each,
/// straight to fd 1 with no buffering that a crash could lose.
final class CheckRecorder {
    let group: String

    init(group: String) {
        self.group = group
    }

    /// Announces the group before its first check, so that a process running several (a valgrind lane) has what
    /// goes wrong between checks pinned to the group it happened in.
    func startGroup() {
        emit(["group_start": group])
    }

    func check(_ name: String, _ body: () throws -> Verdict) {
        emit(["begin": name])
        let start = ContinuousClock.now
        let verdict: Verdict
        do {
            verdict = try body()
        } catch {
            verdict = .fail(expected: "the check to complete", actual: "it threw: \(error)")
        }
        CrashWitness.clear()
        let elapsed = ContinuousClock.now - start
        var result = CheckResult(group: group, name: name, verdict: .pass)
        result.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        switch verdict {
        case .pass: break
        case .fail(let expected, let actual):
            result.verdict = .fail
            result.expected = expected
            result.actual = actual
        case .skip(let reason):
            result.verdict = .skip
            result.actual = reason
        }
        guard let data = try? JSONEncoder().encode(result), let object = String(data: data, encoding: .utf8) else { return }
        write(line: "{\"result\":\(object)}")
    }

    private func emit(_ object: [String: String]) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
              let text = String(data: data, encoding: .utf8) else { return }
        write(line: text)
    }

    private func write(line: String) {
        var bytes = Array((line + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { Glibc.write(1, $0.baseAddress! + offset, $0.count - offset) }
            guard written > 0 else { return }
            offset += written
        }
    }
}
