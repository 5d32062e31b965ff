import ArgumentParser
import BenchmarkSupport
import CustomWebhookProvider
import EchoProvider
import Foundation
import ResendProvider
import SESProvider
import TelnyxProvider

/// Prints the cost of `prepare` and `verify` through the loaded ABI (dlopen,
/// C tables, marshalling both ways, the host's contract checks) next to the
/// same Swift provider type called directly in-process, for every provider
/// this package ships, with each provider's conformance fixtures as input.
@main
struct ABIBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batchsender-bench-abi",
        abstract: "ABI overhead: each provider's prepare and verify through its .so against the same type called in-process.")

    @Option(help: "Folder holding lib<Name>Provider.so (default: beside this executable).")
    var plugins: String?

    @Option(help: "Folder of the provider sources, each with its Fixtures folder.")
    var providers = "Sources/Providers"

    @Option(help: "Rounds per operation; each round times both paths, interleaved.")
    var rounds = 15

    @Option(help: "Calls per timed loop.")
    var iterations = 2000

    @Option(name: .customLong("only"), help: "Measure only this provider (Echo, Resend, CustomWebhook, Telnyx, SES); repeatable.")
    var only: [String] = []

    func validate() throws {
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
        guard iterations >= 1 else { throw ValidationError("--iterations must be at least 1") }
        let unknown = Set(only).subtracting(Self.subjects.map(\.name))
        guard unknown.isEmpty else {
            throw ValidationError("--only \(unknown.sorted().joined(separator: ", ")): no such provider; choose from \(Self.subjects.map(\.name).joined(separator: ", "))")
        }
    }

    /// Each provider, the fixture webhook (one that verifies) its verify is timed on, and the fixture answer (one
    /// that accepts) its interpret is timed on, if any.
    static let subjects: [(name: String, webhook: String, answer: String?, make: @Sendable (String, BenchmarkFixtures, String) throws -> ProviderSubject)] = [
        ("Echo", "delivered.json", nil, { try ProviderSubject(EchoProvider.self, name: $0, fixtures: $1, plugin: $2) }),
        ("Resend", "delivered.json", "accepted-batch.json", { try ProviderSubject(ResendProvider.self, name: $0, fixtures: $1, plugin: $2) }),
        ("CustomWebhook", "delivered.json", nil, { try ProviderSubject(CustomWebhookProvider.self, name: $0, fixtures: $1, plugin: $2) }),
        ("Telnyx", "delivered.json", "accepted-record.json", { try ProviderSubject(TelnyxProvider.self, name: $0, fixtures: $1, plugin: $2) }),
        ("SES", "delivery.json", nil, { try ProviderSubject(SESProvider.self, name: $0, fixtures: $1, plugin: $2) }),
    ]

    func run() throws {
        let bin = plugins.map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var measured: [ProviderSubject] = []
        for subject in Self.subjects where only.isEmpty || only.contains(subject.name) {
            let folder = URL(fileURLWithPath: providers).appendingPathComponent(subject.name).appendingPathComponent("Fixtures")
            let library = bin.appendingPathComponent("lib\(subject.name)Provider.so").path
            do {
                let fixtures = try BenchmarkFixtures(folder: folder, webhookFile: subject.webhook, answerFile: subject.answer)
                measured.append(try subject.make(subject.name, fixtures, library))
            } catch {
                // Not a ValidationError: the options were fine, so no usage text.
                throw BenchmarkFailure(description: "\(subject.name): \(error)")
            }
        }

        print("ABI overhead: median of \(rounds) rounds x \(iterations) calls, the two paths interleaved; ns per call")
        print("provider       operation                 direct       ABI   ABI-direct   ratio")
        for subject in measured {
            for operation in subject.cases {
                var directTimes: [Double] = [], abiTimes: [Double] = []
                for _ in 0..<rounds {
                    directTimes.append(try Timing.nanosecondsPerCall(iterations, operation.direct))
                    abiTimes.append(try Timing.nanosecondsPerCall(iterations, operation.abi))
                }
                let direct = Timing.median(directTimes), abi = Timing.median(abiTimes)
                print(subject.name.padding(toLength: 15, withPad: " ", startingAt: 0)
                      + operation.name.padding(toLength: 24, withPad: " ", startingAt: 0)
                      + String(format: " %9.0f %9.0f %12.0f %6.2fx", direct, abi, abi - direct, abi / direct))
            }
        }
    }
}

struct BenchmarkFailure: Error, CustomStringConvertible {
    var description: String
}
