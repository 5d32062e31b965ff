import App
import Analytics
import ArgumentParser
import Domain
import Foundation
import HostCore
import Logging
import Messaging
import Persistence
import ProviderInstances
import ProviderModel
import SenderAPI
import Services
import Templating

/// `batchsender dlq list|redrive`: the recipients that used every attempt, and sending them again.
struct DeadLetterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq", abstract: "Inspect and re-drive the dead-letter stream (recipients out of attempts).",
        subcommands: [List.self, Redrive.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print each dead letter as one JSON line: sequence, batch, recipients and their last reasons.")
        @Option(help: "At most this many dead letters.") var limit: Int = 100
        @Option(help: "Only this batch's dead letters.") var batch: String?
        @Option(help: "The host config of the deployment (its [deployment] name, [nats] and [api] redis_key_prefix).") var config: String?

        func run() async throws {
            let resources = try OperatorResources.open(configPath: config)
            let letters = try await OperatorResources.deadLetters(resources).letters(batch: batch, limit: limit)
            try await resources.shutdown()
            for (sequence, letter) in letters {
                var writer = JSONWriter()
                writer.beginObject()
                writer.member("sequence", number: Int64(sequence))
                writer.member("batch", letter.job.batchID)
                writer.member("positions", strings: letter.job.recipients.map { String($0.position) })
                writer.member("addresses", strings: letter.job.recipients.map(\.address))
                writer.member("reasons", strings: letter.reasons)
                writer.endObject()
                Output.line(String(decoding: writer.bytes, as: UTF8.self))
            }
        }
    }

    struct Redrive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send dead-lettered recipients again with fresh attempts (those whose rows are failed), and remove their dead letters.")
        @Option(help: "Only this batch's dead letters.") var batch: String?
        @Option(help: "At most this many dead letters.") var limit: Int = 1_000
        @Option(help: "The host config of the deployment (its [deployment] name, [nats] and [api] redis_key_prefix).") var config: String?

        func run() async throws {
            let resources = try OperatorResources.open(configPath: config)
            let done = try await OperatorResources.deadLetters(resources).redrive(batch: batch, limit: limit)
            try await resources.shutdown()
            Output.line("re-drove \(done.letters) dead letters (\(done.recipients) recipients)")
            if done.kept > 0 { Output.line("kept \(done.kept) dead letters: a recipient of each still waits to be sent; re-drive them once it is decided") }
            if done.notHere > 0 {
                Output.line("kept \(done.notHere) dead letters whose batch has no rows in this database: another deployment's (pass its --config) "
                            + "or a deleted batch's")
            }
        }
    }
}
