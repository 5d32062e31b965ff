#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Runs groups of checks in a child process (one group, or a valgrind lane's several in order) and turns what it
/// printed, and how it ended, into results. A crash, a hang or (under valgrind) a memory error fails the check that
/// was running, and the suite goes on; groups of the process that never began are failed as not run.
struct GroupRunner {
    let options: SuiteOptions
    /// The executable the child runs: this program, or a copy stripped for valgrind.
    let executable: String

    static let valgrindErrorExit: Int32 = 99

    func run(groups: [String]) -> [CheckResult] {
        var command = executable
        var arguments = options.childArguments(groups: groups)
        var timeout = options.checkTimeout
        if options.underValgrind {
            command = "/usr/bin/valgrind"
            arguments = ["--quiet", "--error-exitcode=\(Self.valgrindErrorExit)", "--leak-check=full",
                         "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite"]
                + (options.valgrindSuppressions.map { ["--suppressions=\($0)"] } ?? []) + [executable] + arguments
            timeout *= 20
        }
        // The process's findings at exit (a leak, say) belong to every group it ran.
        let together = groups.joined(separator: "+")
        let output: ChildProcess.Output
        do {
            output = try ChildProcess.run(command, arguments, environment: ["SWIFT_BACKTRACE": "enable=no"], timeout: timeout)
        } catch {
            return [CheckResult(group: together, name: "run the group", verdict: .fail, expected: "a child process", actual: "\(error)")]
        }

        var results: [CheckResult] = []
        var running: String?
        // The group the process announced last (`group_start`), and every group it began.
        var current: String?
        var begun: [String] = []
        var crashInput: String?
        for line in String(decoding: output.stdout, as: UTF8.self).split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
            if let group = object["group_start"] as? String {
                current = group
                begun.append(group)
            } else if let name = object["begin"] as? String {
                running = name
            } else if let result = object["result"], let data = try? JSONSerialization.data(withJSONObject: result),
                      let decoded = try? JSONDecoder().decode(CheckResult.self, from: data) {
                results.append(decoded)
                running = nil
            } else if let input = object["crash_input"] as? String {
                let bytes = object["bytes_base64"] as? String ?? ""
                crashInput = bytes.isEmpty ? input : "\(input); bytes (base64): \(bytes.prefix(400))"
            }
        }

        let stderrTail = String(decoding: output.stderr.suffix(1200), as: UTF8.self)
        let group = current ?? groups[0]
        let check = running ?? "(between checks)"
        // A lane's group ran after the lane's earlier ones, on the plugin as they left it; a repeat with several --only
        // would split them into lanes again, so the line names them instead.
        let earlier = groups.prefix { $0 != group }
        let reproduce = "reproduce: batchsender-conformance \(options.originPath)\(options.underValgrind ? " --valgrind" : "") --only \(group)"
            + " --seed \(options.seed) --fuzz-iterations \(options.fuzzIterations)"
            + (earlier.isEmpty ? "" : " (in this run it followed \(earlier.joined(separator: ", ")) in one process)")
        var ended = true
        switch output.ending {
        case .exited(0) where running == nil:
            ended = false
        case .exited(Self.valgrindErrorExit) where options.underValgrind:
            ended = running != nil
            if let running {
                results.append(CheckResult(group: group, name: running, verdict: .fail, expected: "the group to finish",
                                           actual: "the child exited during this check, with valgrind's findings below. \(reproduce)"))
            }
            let report = ValgrindReport(String(decoding: output.stderr, as: UTF8.self),
                                        plugin: URL(fileURLWithPath: options.pluginPath).lastPathComponent)
            results.append(CheckResult(group: together, name: "valgrind: no leaks or invalid accesses", verdict: .fail,
                                       expected: "a clean valgrind report",
                                       actual: report.findings.isEmpty ? stderrTail : report.summary))
        case .exited(let code):
            results.append(CheckResult(group: group, name: check, verdict: .fail, expected: "the group to finish",
                                       actual: "the child exited with status \(code) during this check. \(stderrTail)"))
        case .signalled(let signal):
            let name = String(cString: strsignal(signal))
            results.append(CheckResult(group: group, name: check, verdict: .fail, expected: "no crash",
                                       actual: "the plugin crashed (signal \(signal), \(name))\(crashInput.map { " on input: \($0)" } ?? ""). \(reproduce)"))
        case .timedOut(let seconds):
            results.append(CheckResult(group: group, name: check, verdict: .fail, expected: "the check to finish within \(Int(timeout)) s",
                                       actual: "stopped after \(Int(seconds)) s without progress: the plugin hangs\(crashInput.map { " on input: \($0)" } ?? ""). \(reproduce)"))
        }
        // A group its process never began (it ended early, could not load the plugin, or printed nothing the suite can
        // read) is a failure, not a silent gap; every child announces each group before it loads anything.
        for later in groups where !begun.contains(later) {
            let why = later == group ? "its process printed nothing the suite could read. \(stderrTail)"
                : ended ? "its process (\(together)) ended in group \(group), above" : "its process (\(together)) never began it: see \(group), above"
            results.append(CheckResult(group: later, name: "run the group", verdict: .fail, expected: "the group to run", actual: "not run: \(why)"))
        }
        return results
    }
}
