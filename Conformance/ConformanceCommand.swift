import ArgumentParser
import Dispatch
import Foundation
import Synchronization
import HostCore

/// `batchsender-conformance PLUGIN.so`: the contract every provider plugin
/// must pass. Each group of checks runs in its own child process (this same
/// program with `--child-group`), so a plugin that crashes or hangs fails
/// its check and the suite goes on. Exit 0 conforms, 1 does not, 2 bad usage.
struct ConformanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batchsender-conformance",
        abstract: "Runs the conformance suite on a BatchSender provider plugin.",
        discussion: "Groups: \(CheckGroups.names.joined(separator: ", ")). Fixtures: docs/conformance.md.")

    enum ReportFormat: String, ExpressibleByArgument {
        case junit, json
    }

    @Argument(help: "The plugin's shared object (.so).")
    var plugin: String

    @Option(help: "The plugin's fixtures folder (default: found by its id, see docs/conformance.md).")
    var fixtures: String?

    @Option(help: "Seed of the fuzzing generator; the same seed replays the same inputs.")
    var seed: UInt64 = 1

    @Option(name: .customLong("fuzz-iterations"), help: "Mutated inputs per fuzzed entry point.")
    var fuzzIterations: Int = 2000

    @Option(help: "Also write a report for CI: junit or json.")
    var report: ReportFormat?

    @Option(name: .customLong("report-file"), help: "Where the report goes (default: conformance-<plugin file>.xml or .json).")
    var reportFile: String?

    @Option(help: "Run only this group (repeatable).")
    var only: [String] = []

    @Option(help: "Seconds one check may run before it is stopped as hung.")
    var timeout: Double = 20

    @Flag(help: "Run every group under valgrind; leaks and invalid accesses fail the run.")
    var valgrind = false

    /// The groups a child process runs, in order (one, or a valgrind lane's several).
    @Option(name: .customLong("child-group"), help: .hidden)
    var childGroups: [String] = []

    @Flag(name: .customLong("valgrind-child"), help: .hidden)
    var valgrindChild = false

    /// Under valgrind the child loads a stripped copy; fixtures beside the plugin are looked for beside this path.
    @Option(name: .customLong("plugin-origin"), help: .hidden)
    var pluginOrigin: String?

    func validate() throws {
        if let unknown = (only + childGroups).first(where: { !CheckGroups.names.contains($0) }) {
            throw ValidationError("--only \(unknown): no such group; groups are \(CheckGroups.names.joined(separator: ", "))")
        }
        guard fuzzIterations >= 0 else { throw ValidationError("--fuzz-iterations must be 0 or more") }
        guard timeout > 0 else { throw ValidationError("--timeout must be more than 0 seconds") }
        guard FileManager.default.fileExists(atPath: plugin) else {
            throw ValidationError("\(plugin): no such file; give the path of the plugin's .so")
        }
        if let fixtures, childGroups.isEmpty {
            guard FileManager.default.fileExists(atPath: fixtures + "/fixtures.json") else {
                throw ValidationError("--fixtures \(fixtures): no fixtures.json in this folder (docs/conformance.md)")
            }
            do {
                _ = try Fixtures.load(folder: fixtures)
            } catch {
                throw ValidationError("--fixtures \(error.description)")
            }
        }
    }

    var options: SuiteOptions {
        let path = URL(fileURLWithPath: plugin).standardizedFileURL.path
        return SuiteOptions(pluginPath: path, originPath: pluginOrigin ?? path, fixturesPath: fixtures,
                            seed: seed, fuzzIterations: fuzzIterations, checkTimeout: timeout,
                            underValgrind: valgrind || valgrindChild)
    }

    func run() throws {
        if !childGroups.isEmpty {
            ChildMain.run(groups: childGroups, options: options)
            return
        }
        var options = self.options
        var executable = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
        if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { executable = resolved }
        if valgrind {
            let copies = try ValgrindCopies.make(executable: executable, plugin: options.pluginPath)
            (executable, options.pluginPath, options.valgrindSuppressions) = (copies.executable, copies.plugin, copies.suppressions)
        }
        defer { if valgrind { try? FileManager.default.removeItem(atPath: (executable as NSString).deletingLastPathComponent) } }
        let runner = GroupRunner(options: options, executable: executable)
        let groups = only.isEmpty ? CheckGroups.names : CheckGroups.names.filter(only.contains)
        // Two child processes at once (one a core), their results printed in the groups' order. Each group has a
        // process of its own, so that a crash or a hang costs only its check; under valgrind, whose start-up costs
        // a Swift process some 4 s of CPU (more than most groups' checks), the groups run in two lanes instead,
        // alternate groups in each, one process a lane.
        let lanes = valgrind ? [0, 1].map { lane in groups.enumerated().filter { $0.offset % 2 == lane }.map(\.element) }.filter { !$0.isEmpty }
            : groups.map { [$0] }
        let found = Mutex<[[CheckResult]]>(Array(repeating: [], count: lanes.count))
        DispatchQueue.concurrentPerform(iterations: lanes.count) { index in
            let results = runner.run(groups: lanes[index])
            found.withLock { $0[index] = results }
        }
        let order = Dictionary(uniqueKeysWithValues: groups.enumerated().map { ($0.element, $0.offset) })
        let results = found.withLock { $0 }.joined().enumerated()
            .sorted { (order[$0.element.group] ?? groups.count, $0.offset) < (order[$1.element.group] ?? groups.count, $1.offset) }
            .map(\.element)
        for result in results { print(SummaryReport.lines(for: result)) }
        let name = URL(fileURLWithPath: plugin).lastPathComponent
        print(SummaryReport.footer(results, plugin: name))
        if let report {
            let text = report == .junit ? JUnitReport.render(results, plugin: name) : JSONReport.render(results, plugin: name)
            let path = reportFile ?? "conformance-\(name).\(report == .junit ? "xml" : "json")"
            do {
                try text.write(toFile: path, atomically: true, encoding: .utf8)
            } catch {
                throw ValidationError("--report-file \(path): cannot write: \(error.localizedDescription)")
            }
            print("report: \(path)")
        }
        throw ExitCode(results.contains { $0.verdict == .fail } ? 1 : 0)
    }
}
