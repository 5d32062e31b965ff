import Foundation
import HostCore
import Logging
import ProviderModel
import Synchronization
import Testing

@Suite("Host log lines")
struct HostLogHandlerTests {
    final class Lines: Sendable {
        let all = Mutex<[String]>([])
        func add(_ bytes: [UInt8]) { all.withLock { $0.append(String(decoding: bytes, as: UTF8.self)) } }
    }

    static func logger(_ format: HostLogHandler.Format, _ lines: Lines) -> Logger {
        Logger(label: "batchsender") { HostLogHandler(label: $0, format: format, sink: lines.add) }.role("sender")
    }

    @Test("JSON: one object per line with time, level, role, message and the metadata; URL passwords and secret-named keys redacted")
    func json() throws {
        let lines = Lines()
        Self.logger(.json, lines).warning("cannot reach redis://app:hunter2@10.0.0.5:6379/0 nor nats://nats:s3cret@host:4222",
                                           metadata: ["batch": "b-1", "apiKey": "bsk_live_abc", "url": "https://u:p4ss@example.com/x?y=1"])
        let written = lines.all.withLock { $0 }
        #expect(written.count == 1 && written[0].hasSuffix("\n") && written[0].dropLast().allSatisfy { $0 != "\n" })
        let object = try #require(JSONValue.parse(Array(written[0].utf8))?.objectValue)
        #expect(object["level"] == "warning" && object["role"] == "sender" && object["batch"] == "b-1")
        #expect(ISO8601.milliseconds(object["time"]?.stringValue ?? "") != nil)
        #expect(object["message"] == "cannot reach redis://app:[redacted]@10.0.0.5:6379/0 nor nats://nats:[redacted]@host:4222")
        #expect(object["apiKey"] == "[redacted]" && object["url"] == "https://u:[redacted]@example.com/x?y=1")
        for secret in ["hunter2", "s3cret", "bsk_live_abc", "p4ss"] { #expect(!written[0].contains(secret)) }
    }

    @Test("Text: one readable line, redacted the same way; a URL without a password is left whole")
    func text() {
        let lines = Lines()
        Self.logger(.text, lines).info("posting to http://127.0.0.1:8123/?database=x and postgres://bs:pw@db/bs", metadata: ["token": "t0k"])
        let line = lines.all.withLock { $0.first } ?? ""
        #expect(line.contains("info batchsender[sender]: posting to http://127.0.0.1:8123/?database=x and postgres://bs:[redacted]@db/bs"))
        #expect(line.contains("token=[redacted]") && !line.contains("t0k") && !line.contains(":pw@"))
    }
}
