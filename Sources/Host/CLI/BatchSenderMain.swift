import App
import ArgumentParser
import EndToEndBench
import Foundation

/// The entry point. ArgumentParser's own usage errors exit 64; BatchSender
/// promises scripts one rule instead: bad input exits 2 with one line.
@main
struct BatchSenderMain {
    static func main() async {
        do {
            var command = try BatchSenderCommand.parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let code as ExitCode {
            // A command's own verdict, such as verify's 1 for "not authentic".
            exit(code.rawValue)
        } catch let failure as CommandFailure {
            Output.error(failure.message)
            exit(failure.exitCode)
        } catch {
            if BatchSenderCommand.exitCode(for: error) == .success { BatchSenderCommand.exit(withError: error) }
            Output.error(BatchSenderCommand.message(for: error))
            exit(CommandFailure.badInput)
        }
    }
}

struct BatchSenderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batchsender",
        abstract: "BatchSender: high-throughput message delivery through provider plugins.",
        subcommands: [PluginCommand.self, SandboxCommand.self, MigrateCommand.self, ServeCommand.self, APIKeyCommand.self, WebhookCommand.self,
                      DeadLetterCommand.self, BenchCommand.self, FaultsCommand.self, ClusterDemoCommand.self]
    )
}
