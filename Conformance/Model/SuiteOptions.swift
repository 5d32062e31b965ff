/// What a run of the suite was asked to do; handed unchanged to every group's child process.
struct SuiteOptions: Sendable {
    var pluginPath: String
    /// The plugin file the user named (pluginPath may be a stripped copy of it).
    var originPath: String
    var fixturesPath: String?
    var seed: UInt64
    var fuzzIterations: Int
    /// Seconds one check may run before its group is stopped and the check reported as hung.
    var checkTimeout: Double
    /// Set when the checks run under valgrind, which slows every call some 50×.
    var underValgrind: Bool
    /// The parent's suppressions for the Swift runtime's own lifetime allocations.
    var valgrindSuppressions: String?

    /// The arguments that make a child process run `groups`, in order, with these options.
    func childArguments(groups: [String]) -> [String] {
        var arguments = groups.flatMap { ["--child-group", $0] } + [pluginPath, "--plugin-origin", originPath, "--seed", String(seed),
                         "--fuzz-iterations", String(fuzzIterations)]
        if let fixturesPath { arguments += ["--fixtures", fixturesPath] }
        if underValgrind { arguments.append("--valgrind-child") }
        return arguments
    }
}
