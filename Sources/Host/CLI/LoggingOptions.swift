import App
import ArgumentParser
import HostCore
import Logging

/// `--log-level` and `--log-format`, shared by the long-running commands (`serve`, `sandbox`).
struct LoggingOptions: ParsableArguments {
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning or error.")
    var logLevel: String = "info"

    @Option(name: .customLong("log-format"), help: "text (one readable line per event) or json (one object per line, for a log collector).")
    var logFormat: String = "text"

    /// A logger at the chosen level and format; an unknown one is a usage error naming the option.
    func logger(label: String) throws -> Logger {
        guard let level = Logger.Level(rawValue: logLevel) else { throw CommandFailure("--log-level: unknown level \(logLevel)") }
        guard let format = HostLogHandler.Format(rawValue: logFormat) else {
            throw CommandFailure("--log-format: unknown format \(logFormat); text or json")
        }
        var logger = Logger(label: label) { HostLogHandler(label: $0, format: format) }
        logger.logLevel = level
        return logger
    }
}
