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
        @Option(help: "The host config whose [api] redis_key_prefix the deployment uses.") var config: String?

        func run() async throws {
            let resources = try DeadLetterCommand.resources(config: config)
            let letters = try await DeadLetterCommand.letters(resources, batch: batch, limit: limit)
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
            abstract: "Send dead-lettered recipients again with fresh attempts, and remove their dead letters.")
        @Option(help: "Only this batch's dead letters.") var batch: String?
        @Option(help: "At most this many dead letters.") var limit: Int = 1_000
        @Option(help: "The host config whose [api] redis_key_prefix the deployment uses.") var config: String?

        func run() async throws {
            let resources = try DeadLetterCommand.resources(config: config)
            var recipients = 0
            let letters = try await DeadLetterCommand.letters(resources, batch: batch, limit: limit)
            for (sequence, letter) in letters {
                let job = letter.job, positions = job.recipients.map(\.position)
                let outcomes = try await resources.hot.outcomes(batchID: job.batchID, positions: positions)
                let failed = outcomes.filter { if case .failed? = $0 { true } else { false } }.count
                try await resources.hot.forget(batchID: job.batchID, positions: positions, failedDelta: failed)
                try await resources.ledger.redrive(batchID: job.batchID, positions: positions)
                try await TenantQueues(registry: resources.tenants, bus: resources.bus, ackWaitMs: resources.settings.ackWaitMs, clock: .system).announce(userID: job.userID)
                let message = OutgoingMessage(subject: Streams.tenantSubject(userID: job.userID), id: "redrive:\(sequence)", data: job.encoded())
                try await resources.bus.run { jetStream in
                    try jetStream.publish([message])
                    try jetStream.delete(stream: Streams.deadLetters, sequence: sequence)
                }
                recipients += positions.count
            }
            try await resources.shutdown()
            Output.line("re-drove \(letters.count) dead letters (\(recipients) recipients)")
        }
    }

    static func resources(config: String?) throws -> ProcessResources {
        let environment: HostEnvironment
        do { environment = try HostEnvironment(ProcessInfo.processInfo.environment) } catch { throw CommandFailure(error.description) }
        var prefix = APISettings().redisKeyPrefix
        if let config {
            do { prefix = try HostConfig.load(path: config).api.redisKeyPrefix } catch { throw CommandFailure(error.description) }
        }
        var logger = Logger(label: "batchsender.dlq")
        logger.logLevel = .error
        do {
            return try ProcessResources(databaseURL: environment.databaseURL, redisURL: environment.redisURL, natsURL: environment.natsURL,
                                         masterKey: environment.masterKey, redisPrefix: prefix,
                                         plugins: PluginRegistry(), settings: PipelineSettings(), logger: logger)
        } catch {
            throw CommandFailure("cannot reach the servers: \(error)")
        }
    }

    static func letters(_ resources: ProcessResources, batch: String?, limit: Int) async throws -> [(UInt64, DeadLetter)] {
        let stored = try await resources.bus.run { try $0.messages(stream: Streams.deadLetters, from: 1, limit: 1_000_000) }
        var letters: [(UInt64, DeadLetter)] = []
        for message in stored where letters.count < limit {
            guard let letter = try? DeadLetter(decoding: message.data) else { continue }
            if let batch, letter.job.batchID != batch { continue }
            letters.append((message.sequence, letter))
        }
        return letters
    }
}
