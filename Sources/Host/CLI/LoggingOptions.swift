import ArgumentParser
import Logging

/// `--log-level`, shared by the long-running commands (`serve`, `sandbox`).
struct LoggingOptions: ParsableArguments {
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning or error.")
    var logLevel: String = "info"

    /// A logger at the chosen level; an unknown level is a usage error naming the option.
    func logger(label: String) throws -> Logger {
        guard let level = Logger.Level(rawValue: logLevel) else { throw CommandFailure("--log-level: unknown level \(logLevel)") }
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}
