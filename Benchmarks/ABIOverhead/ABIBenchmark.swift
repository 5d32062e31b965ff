import BenchmarkSupport
import EchoProvider
import Foundation
import HostCore
import Logging
import ProviderKit

/// Prints the cost of `prepare` and `verify` through the loaded ABI (dlopen,
/// C tables, marshalling both ways, the host's contract checks) next to the
/// same Swift provider type called directly in-process, and the ratio.
/// Usage: batchsender-bench-abi [PATH/libEchoProvider.so] [rounds]
@main
struct ABIBenchmark {
    static func main() throws {
        let arguments = CommandLine.arguments
        let bin = URL(fileURLWithPath: arguments[0]).deletingLastPathComponent()
        let pluginPath = arguments.count > 1 ? arguments[1] : bin.appendingPathComponent("libEchoProvider.so").path
        let rounds = arguments.count > 2 ? Int(arguments[2]) ?? 15 : 15
        let iterations = 2000

        let now: Int64 = 1_700_000_000_000
        let settings = [KeyValue("url", "https://example.org/echo"), KeyValue("secret", "benchmark-secret")]
        let context = LocalContext(nowMilliseconds: now)
        let direct = try EchoProvider(configuration: PluginConfiguration(unchecked: settings.dictionary), context: context)
        let loaded = try PluginLoader.load(path: pluginPath)
        let instance = try loaded.makeInstance(
            configuration: settings, services: HostServices(logger: Logger(label: "bench"), nowMilliseconds: now))

        let message = OutboundMessage(id: "rcp_1", channel: .email, from: "News <news@example.org>", to: ["ada@example.org"],
                                      subject: "Your weekly digest", html: "<p>Hello</p>", text: "Hello Ada, here is your digest.")
        // Inputs are built once, outside the timed calls, for both paths alike.
        let one = [message]
        let batch = (0..<10).map { index in
            var copy = message
            copy.id = "rcp_\(index)"
            copy.idempotencyKey = copy.id
            return copy
        }
        // A newsletter-sized message: what the pipeline sends most.
        var newsletter = message
        newsletter.text = String(repeating: "A paragraph of this week's digest, with a link to read more. ", count: 64)
        newsletter.html = "<html><body>" + String(repeating: "<p>A paragraph of this week's digest.</p>", count: 400) + "</body></html>"
        let large = [newsletter]
        let body = Array(String(repeating: "evt_1 delivered echo-rcp_1 ada@example.org 1700000000000\n", count: 4).utf8)
        let timestamp = "1700000000"
        let signature = "v1=" + direct.signatureForBenchmark(timestamp: timestamp, body: body)
        let webhook = InboundWebhook(headers: [KeyValue("x-echo-timestamp", timestamp), KeyValue("x-echo-signature", signature)],
                                     body: body)

        // Both paths must agree before their speed means anything.
        for messages in [one, batch, large] {
            let directSend = try direct.prepare(messages, context: context)
            let abiSend = try instance.prepare(messages)
            precondition(directSend == abiSend, "the direct and ABI paths disagree")
        }
        precondition(instance.verifyOnce(webhook).status == nil)

        let cases: [(String, () throws -> Void, () throws -> Void)] = [
            ("prepare (1 small message)", { _ = try direct.prepare(one, context: context) }, { _ = try instance.prepare(one) }),
            ("prepare (10 small)", { _ = try direct.prepare(batch, context: context) }, { _ = try instance.prepare(batch) }),
            ("prepare (1 newsletter)", { _ = try direct.prepare(large, context: context) }, { _ = try instance.prepare(large) }),
            ("verify", { try direct.verify(webhook, context: context) }, { _ = instance.verifyOnce(webhook) }),
        ]
        print("ABI overhead: \(loaded.id) from \(pluginPath)")
        print("median of \(rounds) rounds x \(iterations) calls, interleaved; ns per call")
        print("operation".padding(toLength: 26, withPad: " ", startingAt: 0) + "   direct      ABI    ratio")
        for (name, directCall, abiCall) in cases {
            var directTimes: [Double] = [], abiTimes: [Double] = []
            for _ in 0..<rounds {
                directTimes.append(try Timing.nanosecondsPerCall(iterations, directCall))
                abiTimes.append(try Timing.nanosecondsPerCall(iterations, abiCall))
            }
            let d = Timing.median(directTimes), a = Timing.median(abiTimes)
            print(name.padding(toLength: 26, withPad: " ", startingAt: 0)
                  + String(format: " %8.0f %8.0f %7.2fx", d, a, a / d))
        }
    }
}
