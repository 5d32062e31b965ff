#if canImport(Glibc)
import Glibc
#endif
import Foundation
import ProviderKit
import Testing

/// ABI 1.1: the throttled outcome kind and the provider's default rate in the descriptor, across the
/// C boundary both ways, and what each side of another minor sees.
@Suite("ABI 1.1: the throttled kind and the default rate", .serialized)
struct ABIMinorOneTests {
    static func descriptor(rate: SendRate?) -> PluginDescriptor {
        PluginDescriptor(id: "p", name: "P", version: "1.0.0", description: "d", channels: [.email], maxBatch: 100,
                         configKeys: [], defaultRate: rate)
    }

    @Test("every outcome kind has its outcome.h code both ways; 0 and 5 are no kind")
    func kindCodes() {
        let codes: [(SendOutcome.Kind, Int32)] = [(.accepted, 1), (.retryable, 2), (.permanent, 3), (.throttled, 4)]
        for (kind, code) in codes {
            #expect(kind.code == code, "\(kind)")
            #expect(SendOutcome.Kind(code: code) == kind, "\(code)")
        }
        for code: Int32 in [0, 5, -1, .max] {
            var c = bsp_outcome()
            c.struct_size = bsp_outcome.currentSize
            c.kind = code
            #expect(SendOutcome(reading: &c) == nil, "kind \(code)")
        }
    }

    @Test("a throttled outcome crosses whole to a 1.1 host, and as retryable, wait and code kept, to a 1.0 host")
    func throttledToEitherHost() {
        let outcome = SendOutcome.throttled(3, after: 30_000, code: "rate_limit_exceeded", "Too many requests")
        #expect(outcome.withCOutcome(hostMinor: 1) { SendOutcome(reading: $0) } == outcome)
        var asRetryable = outcome
        asRetryable.kind = .retryable
        #expect(outcome.withCOutcome(hostMinor: 0) { SendOutcome(reading: $0) } == asRetryable)
        for other in [SendOutcome.retryable(0, code: "503", "HTTP 503"), .permanent(1, code: "422", "bad"), .accepted(2, id: "id-2")] {
            #expect(other.withCOutcome(hostMinor: 0) { SendOutcome(reading: $0) } == other)
        }
    }

    @Test("the default rate and its unit cross the descriptor both ways",
          arguments: [SendRate(14, .messagesPerSecond), SendRate(2, .requestsPerSecond), SendRate(Int(UInt32.max), .messagesPerSecond), nil])
    func rateRoundTrip(_ rate: SendRate?) throws {
        let arena = CArena()
        let c = Self.descriptor(rate: rate).cDescriptor(in: arena)
        #expect(c.pointee.default_rate == UInt32(rate?.perSecond ?? 0))
        #expect(try PluginDescriptor(reading: c).defaultRate == rate)
    }

    @Test("a 1.0 plugin's descriptor ends before the rate: what lies past its struct_size reads as no rate")
    func descriptorOfMinorZero() throws {
        let arena = CArena()
        let c = UnsafeMutablePointer(mutating: Self.descriptor(rate: SendRate(14, .messagesPerSecond)).cDescriptor(in: arena))
        c.pointee.struct_size = UInt32(try #require(MemoryLayout<bsp_descriptor>.offset(of: \.default_rate)))
        let read = try PluginDescriptor(reading: c)
        #expect(read.defaultRate == nil)
        #expect(read.maxBatch == 100)
        #expect(PluginDescriptor.rateProblem(in: bsp_descriptor.read(from: c)) == nil)
    }

    @Test("a rate in a unit this ABI does not define loads as no rate and is reported; a rate of 0 needs no unit")
    func unknownUnit() throws {
        let arena = CArena()
        let c = UnsafeMutablePointer(mutating: Self.descriptor(rate: nil).cDescriptor(in: arena))
        c.pointee.rate_unit = 7
        #expect(try PluginDescriptor(reading: c).defaultRate == nil)
        #expect(PluginDescriptor.rateProblem(in: c.pointee) == nil)
        c.pointee.default_rate = 50
        #expect(try PluginDescriptor(reading: c).defaultRate == nil)
        #expect(PluginDescriptor.rateProblem(in: c.pointee)?.contains("rate_unit 7") == true)
    }

    @Test("a rate holds 1 to UINT32_MAX, and in requests counts max_batch messages each without overflow")
    func rateBounds() {
        #expect(SendRate(0, .messagesPerSecond) == nil)
        #expect(SendRate(-1, .requestsPerSecond) == nil)
        #expect(SendRate(Int(UInt32.max) + 1, .messagesPerSecond) == nil)
        #expect(SendRate(14, .messagesPerSecond)?.messagesPerSecond(maxBatch: 50) == 14)
        #expect(SendRate(2, .requestsPerSecond)?.messagesPerSecond(maxBatch: 100) == 200)
        #expect(SendRate(2, .requestsPerSecond)?.messagesPerSecond(maxBatch: 0) == 2)
        #expect(SendRate(Int(UInt32.max), .requestsPerSecond)?.messagesPerSecond(maxBatch: .max) == .max)
    }

    @Test("the built-in plugins declare their providers' rates", arguments: [
        ("Resend", SendRate(5, .requestsPerSecond)), ("SES", SendRate(14, .messagesPerSecond)),
        ("Telnyx", SendRate(50, .messagesPerSecond)), ("CustomWebhook", SendRate(50, .messagesPerSecond)), ("Echo", nil),
    ])
    func builtInRates(_ provider: String, _ rate: SendRate?) throws {
        let path = HostilePluginNumberTests.bin.appendingPathComponent("lib\(provider)Provider.so").path
        #expect(try Self.table(path, hostMinor: UInt32(BSP_ABI_MINOR)).descriptor.defaultRate == rate)
    }

    /// The C example, built apart from other suites' copies: its host minor is a static of the library.
    static let cEchoPath: Result<String, any Error> = Result {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("abi-minor-\(getpid())-libEchoC.so").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/cc")
        process.arguments = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-shared", "-fPIC",
                             "-I", HostilePluginNumberTests.root.appendingPathComponent("Sources/ProviderSDK/ABI/include").path,
                             HostilePluginNumberTests.root.appendingPathComponent("examples/c-echo/echo_plugin.c").path,
                             "-lcrypto", "-o", output]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown) }
        return output
    }

    @Test("a 1.1 plugin answers a 429 as throttled to a 1.1 host and as retryable to a 1.0 host",
          arguments: ["Swift", "C"], [0, 1] as [UInt32])
    func pluginToHostOfMinor(_ language: String, _ hostMinor: UInt32) throws {
        let path = language == "C" ? try Self.cEchoPath.get()
            : HostilePluginNumberTests.bin.appendingPathComponent("libEchoProvider.so").path
        let recorded = try Self.interpret(HTTPResult(status: 429, headers: [KeyValue("retry-after", "30")]),
                                          path: path, hostMinor: hostMinor)
        #expect(recorded.errors.isEmpty, "\(recorded.errors)")
        #expect(recorded.kinds == [hostMinor == 0 ? BSP_OUTCOME_RETRYABLE : BSP_OUTCOME_THROTTLED])
        #expect(recorded.retryAfter == [30_000])
    }

    /// What a plugin emitted through a bare host of one minor.
    final class Recorded {
        var kinds: [Int32] = []
        var retryAfter: [Int64] = []
        var errors: [String] = []

        static func from(_ call: UnsafeMutablePointer<bsp_call>?) -> Recorded? {
            guard let data = call?.pointee.host_data else { return nil }
            return Unmanaged<Recorded>.fromOpaque(data).takeUnretainedValue()
        }
    }

    struct Table {
        let plugin: bsp_plugin
        let descriptor: PluginDescriptor
    }

    /// The plugin's table for a host of `hostMinor`, through the entry function as a host calls it.
    static func table(_ path: String, hostMinor: UInt32) throws -> Table {
        let handle = try #require(dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE), "\(path)")
        let entry = unsafeBitCast(try #require(dlsym(handle, BSP_ENTRY_SYMBOL)), to: bsp_entry_fn.self)
        let plugin = bsp_plugin.read(from: try #require(entry(UInt32(BSP_ABI_MAJOR), hostMinor)))
        return Table(plugin: plugin, descriptor: try PluginDescriptor(reading: plugin.descriptor))
    }

    /// The Echo protocol's sender, driven by a host that is nothing but its minor, a clock and an outcome sink:
    /// the ABI's side of a host of that minor, without the 1.1 host's own checks in between.
    static func interpret(_ response: HTTPResult, path: String, hostMinor: UInt32) throws -> Recorded {
        let table = try table(path, hostMinor: hostMinor).plugin
        let sender = bsp_sender_v1.read(from: try #require(table.get_interface?(BSP_SENDER_V1)))
        let recorded = Recorded()
        var host = bsp_host()
        host.struct_size = bsp_host.currentSize
        host.abi_major = UInt32(BSP_ABI_MAJOR)
        host.abi_minor = hostMinor
        host.now_ms = { _ in 1_700_000_000_000 }
        let arena = CArena()
        var config = bsp_config()
        config.struct_size = bsp_config.currentSize
        config.entries = arena.pairs([KeyValue("secret", "s3cret"), KeyValue("url", "https://example.org/echo")])
        let message = OutboundMessage(id: "m1", channel: .email, idempotencyKey: "k1", from: "a@example.org",
                                      to: ["b@example.org"], subject: "s", text: "t")
        let messages = [message].cMessageArray(in: arena)
        withUnsafePointer(to: &host) { host in
            var call = bsp_call()
            call.struct_size = bsp_call.currentSize
            call.host = host
            call.host_data = Unmanaged.passUnretained(recorded).toOpaque()
            call.set_error = { call, _, message in Recorded.from(call)?.errors.append(message.string) }
            call.emit_outcome = { call, outcome in
                guard let recorded = Recorded.from(call), let outcome else { return BSP_E_INVALID_ARGUMENT }
                recorded.kinds.append(outcome.pointee.kind)
                recorded.retryAfter.append(outcome.pointee.retry_after_ms)
                return BSP_OK
            }
            var instance: OpaquePointer?
            guard table.create?(&call, &config, &instance) == BSP_OK else { return }
            defer { table.destroy?(instance) }
            let status = response.withCResponse { sender.interpret?(instance, &call, messages, 1, $0) }
            if status != BSP_OK { recorded.errors.append("interpret answered \(String(describing: status))") }
        }
        withExtendedLifetime(arena) {}
        return recorded
    }
}
