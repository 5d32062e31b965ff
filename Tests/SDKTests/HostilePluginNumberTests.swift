import Foundation
import HostCore
import Logging
import ProviderModel
import Testing

/// Each built-in plugin (and the C example), loaded through the ABI as the host loads it, fed the
/// numbers and dates an attacker would put in the fields it reads. A trap in a plugin is a trap of
/// the host; before the fixes the INT64_MIN timestamp and the INT64_MAX Retry-After stopped this process.
@Suite("Hostile numbers in the built-in plugins", .serialized)
struct HostilePluginNumberTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let bin: URL = ProcessInfo.processInfo.environment["BATCHSENDER_BIN"].map { URL(fileURLWithPath: $0) }
        ?? root.appendingPathComponent(".build/debug")

    static let hostileIntegers = ["-9223372036854775808", "9223372036854775807", "-9223372036854775809", "9223372036854775808",
                                  "123456789012345678901234567890", "-123456789012345678901234567890", "-1", "0", "1700000000.5",
                                  "", "+1700000000", "1700000000\u{0}", String(repeating: "9", count: 1 << 20)]
    static let hostileDates: [JSONValue] = [.string("0000-01-01T00:00:00.000Z"), .string("10000-01-01T00:00:00.000Z"),
                                            .string("-0001-01-01T00:00:00.000Z"), .string("1969-12-31T23:59:59.000Z"),
                                            .string("9223372036854775807"), .string("2023-11-14T22:13:20.000Z\u{0}"),
                                            .number(1e30), .number(-9.3e18)]

    /// A plugin by provider folder; `c` is the C example built from examples/c-echo.
    struct Plugin: CustomStringConvertible {
        var provider: String
        var c = false
        var description: String { c ? "\(provider) (C)" : provider }
    }

    static let echo = Plugin(provider: "Echo"), cEcho = Plugin(provider: "Echo", c: true)
    static let resend = Plugin(provider: "Resend"), telnyx = Plugin(provider: "Telnyx")
    static let custom = Plugin(provider: "CustomWebhook"), ses = Plugin(provider: "SES")

    static let cEchoPath: Result<String, any Error> = Result {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-numbers-\(getpid())-libEchoC.so").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/cc")
        process.arguments = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-shared", "-fPIC",
                             "-I", root.appendingPathComponent("Sources/ProviderSDK/ABI/include").path,
                             root.appendingPathComponent("examples/c-echo/echo_plugin.c").path, "-lcrypto", "-o", output]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown) }
        return output
    }

    static func fixtures(_ provider: String) throws -> JSONValue {
        let url = root.appendingPathComponent("Sources/Providers/\(provider)/Fixtures/fixtures.json")
        return try #require(JSONValue.parse(Array(try Data(contentsOf: url))))
    }

    static func instance(_ plugin: Plugin) throws -> PluginInstance {
        let path = plugin.c ? try cEchoPath.get() : bin.appendingPathComponent("lib\(plugin.provider)Provider.so").path
        let fixtures = try fixtures(plugin.provider)
        let config = (fixtures["config"]?.objectValue ?? [:]).sorted { $0.key < $1.key }.map { key, value in
            KeyValue(key, value.stringValue ?? value.compactText)
        }
        var now: Int64 = 1_700_000_000_000
        if case .number(let given)? = fixtures["now_ms"], let exact = Int64(exactly: given) { now = exact }
        let services = HostServices(logger: Logger(label: "test"), nowMilliseconds: now)
        let loaded = try PluginLoader.load(path: path)
        return try loaded.makeInstance(configuration: config, services: services)
    }

    /// The request of one of the provider's webhook fixtures.
    static func webhook(_ provider: String, _ file: String) throws -> InboundWebhook {
        let url = root.appendingPathComponent("Sources/Providers/\(provider)/Fixtures/webhooks/\(file)")
        let request = try #require(JSONValue.parse(Array(try Data(contentsOf: url)))?["request"])
        let headers = (request["headers"]?.objectValue ?? [:]).sorted { $0.key < $1.key }.map { KeyValue($0.key, $0.value.stringValue ?? "") }
        return InboundWebhook(path: request["path"]?.stringValue ?? "/", headers: headers,
                              body: Array((request["body"]?.stringValue ?? "").utf8))
    }

    /// `document` with the member at `path` (object keys) set to `value`.
    static func replacing(_ document: JSONValue, _ path: [String], with value: JSONValue) -> JSONValue {
        guard let key = path.first, case .object(var members) = document else { return value }
        members[key] = replacing(members[key] ?? .null, Array(path.dropFirst()), with: value)
        return .object(members)
    }

    // MARK: timestamp headers (SignedWebhookHeaders.checkTimestamp, the C example's own check)

    @Test("a hostile signature timestamp header is refused as expired or badly encoded, naming the header",
          arguments: [(echo, "delivered.json", "x-echo-timestamp"), (cEcho, "delivered.json", "x-echo-timestamp"),
                      (resend, "delivered.json", "svix-timestamp"), (telnyx, "delivered.json", "telnyx-timestamp"),
                      (custom, "delivered.json", "webhook-timestamp")])
    func timestampHeader(_ plugin: Plugin, _ file: String, _ header: String) throws {
        let instance = try Self.instance(plugin)
        let original = try Self.webhook(plugin.provider, file)
        #expect(instance.verifyOnce(original).status == nil, "the fixture verifies as it is")
        for value in Self.hostileIntegers {
            var request = original
            request.headers = request.headers.map { $0.name == header ? KeyValue(header, value) : $0 }
            let failure = instance.verifyOnce(request).status
            #expect(failure.map { [.signatureExpired, .signatureEncoding].contains($0.status) } == true, "\(plugin) \(value.prefix(30)): \(String(describing: failure))")
            #expect(failure?.field == "header:\(header)", "\(plugin) \(value.prefix(30))")
        }
    }

    // MARK: event times in bodies (EventTimestamp)

    @Test("Echo's unix_ms of INT64_MAX, negative, 30 digits or past 9999 is malformed, in Swift and C", arguments: [echo, cEcho])
    func echoEventTime(_ plugin: Plugin) throws {
        let instance = try Self.instance(plugin)
        for value in ["9223372036854775807", "-9223372036854775808", "-1", "123456789012345678901234567890", "253402300800000",
                      "1.5", "1e12", ""] {
            let request = InboundWebhook(headers: [], body: Array("evt_1 delivered m_1 ada@example.org \(value)\n".utf8))
            #expect(throws: PluginFailure.self, "\(plugin) \(value)") { try instance.parse(request) }
            do { _ = try instance.parse(request) } catch {
                #expect(error.status == .malformed && error.field == "body:line 1", "\(plugin) \(value)")
            }
        }
        let fine = InboundWebhook(headers: [], body: Array("evt_1 delivered m_1 ada@example.org 253402300799999\n".utf8))
        #expect(try instance.parse(fine).first?.timestampMs == 253_402_300_799_999)
    }

    @Test("a JSON event time in year 0, 10000, negative, before 1970, or not a string is malformed, naming the field",
          arguments: [(resend, "delivered.json", ["created_at"], "body.created_at"),
                      (telnyx, "delivered.json", ["data", "occurred_at"], "body.data.occurred_at"),
                      (custom, "delivered.json", ["timestamp"], "body.timestamp"),
                      (ses, "subscription-confirmation.json", ["Timestamp"], "body.Timestamp"),
                      (ses, "delivery.json", ["Timestamp"], "body.Timestamp")])
    func jsonEventTime(_ plugin: Plugin, _ file: String, _ path: [String], _ field: String) throws {
        let instance = try Self.instance(plugin)
        let original = try Self.webhook(plugin.provider, file)
        #expect(throws: Never.self) { try instance.parse(original) }
        let document = try #require(JSONValue.parse(original.body))
        for value in Self.hostileDates {
            // SNS carries only string fields; any other value there is a missing Timestamp, malformed too.
            var request = original
            request.body = Self.replacing(document, path, with: value).compactBytes
            #expect(throws: PluginFailure.self, "\(plugin) \(value)") { try instance.parse(request) }
            do { _ = try instance.parse(request) } catch {
                #expect(error.status == .malformed && error.field == field, "\(plugin) \(value): \(error)")
            }
        }
    }

    /// An SES notification's body with `change` applied to its parsed `Message`.
    static func sesRequest(_ original: InboundWebhook, _ change: (JSONValue) -> JSONValue) throws -> InboundWebhook {
        let envelope = try #require(JSONValue.parse(original.body))
        let message = try #require(envelope["Message"]?.stringValue.flatMap { JSONValue.parse(Array($0.utf8)) })
        var request = original
        request.body = Self.replacing(envelope, ["Message"], with: .string(change(message).compactText)).compactBytes
        return request
    }

    @Test("the time an SES event is dated by, out of range, is malformed naming it: its own object's, or mail's when that has none",
          arguments: [("delivery.json", "delivery", false), ("bounce-permanent.json", "bounce", false),
                      ("delivery.json", "mail", true), ("bounce-permanent.json", "mail", true)])
    func sesMessageTime(_ file: String, _ object: String, _ withoutOwnTime: Bool) throws {
        let instance = try Self.instance(Self.ses)
        let original = try Self.webhook("SES", file)
        let own = file == "delivery.json" ? "delivery" : "bounce"
        for value in Self.hostileDates {
            let request = try Self.sesRequest(original) { message in
                let dated = withoutOwnTime ? Self.replacing(message, [own, "timestamp"], with: .null) : message
                return Self.replacing(dated, [object, "timestamp"], with: value)
            }
            #expect(throws: PluginFailure.self, "\(object) \(value)") { try instance.parse(request) }
            do { _ = try instance.parse(request) } catch {
                #expect(error.status == .malformed && error.field == "body.Message.\(object).timestamp", "\(value): \(error)")
            }
        }
    }

    @Test("an odd time in an object the SES event is not dated by refuses nothing: the events keep their own time",
          arguments: [("delivery.json", ["mail", "timestamp"]), ("delivery.json", ["open", "timestamp"]),
                      ("bounce-permanent.json", ["mail", "timestamp"]), ("bounce-permanent.json", ["delivery", "timestamp"])])
    func sesUnusedTime(_ file: String, _ path: [String]) throws {
        let instance = try Self.instance(Self.ses)
        let original = try Self.webhook("SES", file)
        let expected = try instance.parse(original)
        #expect(!expected.isEmpty && expected.allSatisfy { $0.timestampMs != nil })
        for value in Self.hostileDates {
            let request = try Self.sesRequest(original) { Self.replacing($0, path, with: value) }
            let events = try instance.parse(request)
            #expect(events.map(\.timestampMs) == expected.map(\.timestampMs), "\(path) \(value)")
        }
    }

    // MARK: Retry-After (HTTPResult.retryAfterMs, the C example's own reading)

    @Test("a 429 with Retry-After of INT64_MAX, 30 digits or INT64_MIN is throttled for 0 ms to a day",
          arguments: [echo, cEcho, resend, telnyx, custom, ses])
    func retryAfter(_ plugin: Plugin) throws {
        let instance = try Self.instance(plugin)
        let message = switch plugin.provider {
        case "Telnyx": OutboundMessage(id: "m1", channel: .sms, from: "+18445550001", to: ["+18445552367"], text: "t")
        case "CustomWebhook": OutboundMessage(id: "m1", channel: .webhook, to: ["https://hooks.example.org/x"], text: "t")
        default: OutboundMessage(id: "m1", channel: .email, from: "a@example.org", to: ["b@example.org"], subject: "s", text: "t")
        }
        for (value, expected) in [("9223372036854775807", SendOutcome.maximumRetryAfterMs), ("9223372036854775", SendOutcome.maximumRetryAfterMs),
                                  ("123456789012345678901234567890", SendOutcome.maximumRetryAfterMs),
                                  ("-9223372036854775808", 0), ("Fri, 31 Dec 9999 23:59:59 GMT", SendOutcome.maximumRetryAfterMs)] {
            let outcomes = try instance.interpret(HTTPResult(status: 429, headers: [KeyValue("retry-after", value)]), for: [message])
            #expect(outcomes.count == 1 && outcomes[0].kind == .throttled, "\(plugin) \(value)")
            #expect(outcomes.first?.retryAfterMs == expected, "\(plugin) \(value): \(String(describing: outcomes.first?.retryAfterMs))")
        }
    }
}

extension HostilePluginNumberTests {
    @Test("a Resend batch error index of 1e30, -1, 0.5, 2^63 or past the batch names no message: the rest stay accepted")
    func resendBatchIndex() throws {
        let instance = try Self.instance(Self.resend)
        let messages = (0..<2).map {
            OutboundMessage(id: "m\($0)", channel: .email, from: "a@example.org", to: ["b\($0)@example.org"], subject: "s", text: "t")
        }
        for index in ["1e30", "-1", "0.5", "9223372036854775808", "-9223372036854775809", "2", "123456789012345678901234567890", "\"0\""] {
            let body = #"{"data":[{"id":"e0"},{"id":"e1"}],"errors":[{"index":\#(index),"message":"bad"}]}"#
            let outcomes = try instance.interpret(HTTPResult(status: 200, body: Array(body.utf8)), for: messages)
            #expect(outcomes.map(\.kind) == [.accepted, .accepted], "index \(index): \(outcomes)")
        }
        let refused = #"{"data":[{"id":"e1"}],"errors":[{"index":0,"message":"bad"}]}"#
        #expect(try instance.interpret(HTTPResult(status: 200, body: Array(refused.utf8)), for: messages).map(\.kind) == [.permanent, .accepted])
    }
}
