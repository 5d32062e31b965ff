import ArgumentParser
import Foundation

/// Exit codes are the suite's promise to CI: 0 conforms, 1 does not, 2 bad usage
/// (ArgumentParser's own usage errors would exit 64).
@main
struct ConformanceMain {
    static func main() {
        do {
            var command = try ConformanceCommand.parseAsRoot()
            try command.run()
        } catch let code as ExitCode {
            exit(code.rawValue)
        } catch {
            if ConformanceCommand.exitCode(for: error) == .success { ConformanceCommand.exit(withError: error) }
            FileHandle.standardError.write(Data("batchsender-conformance: \(ConformanceCommand.message(for: error))\n".utf8))
            exit(2)
        }
    }
}
