import Domain
import Persistence
import ProviderModel
import Testing

/// The members a run of events shares are written once and copied into each line: every line must still be the
/// whole row of its own event, whatever came before it.
@Suite("Analytics rows")
struct AnalyticsRowTests {
    @Test("runs of events that share a batch, and events between them that do not: each line is its own event's row")
    func linesAreTheirOwnEvents() throws {
        let a = AnalyticsEvent(timeMs: 1_765_000_000_123, userID: "u1", batchID: "b1", recipient: 1, sendConfigID: "c1", provider: "resend", type: .sent,
                               providerMessageID: "m-1")
        var b = a
        b.recipient = 2
        b.type = .failed
        b.reason = "quote \" and newline \n"
        var c = a
        c.batchID = "b2"
        c.recipient = 3
        c.count = 40
        var d = a
        d.timeMs += 1_000
        d.recipient = 4
        let events = [a, b, c, a, d]
        var bytes: [UInt8] = []
        AnalyticsEvent.encode(events, block: "blk", into: &bytes)
        let lines = bytes.split(separator: UInt8(ascii: "\n"))
        try #require(lines.count == events.count)
        for (line, event) in zip(lines, events) {
            let row = try #require(JSONValue.parse(Array(line)), "not JSON: \(String(decoding: line, as: UTF8.self))")
            #expect(row["event_time"] == .number(Double(event.timeMs / 1_000)))
            #expect(row["batch_id"]?.stringValue == event.batchID)
            #expect(row["user_id"]?.stringValue == event.userID)
            #expect(row["send_config_id"]?.stringValue == event.sendConfigID)
            #expect(row["provider"]?.stringValue == event.provider)
            #expect(row["block_id"]?.stringValue == "blk")
            #expect(row["recipient"] == .number(Double(event.recipient)))
            #expect(row["event_type"]?.stringValue == event.type.rawValue)
            #expect(row["reason"]?.stringValue == event.reason)
            #expect(row["provider_message_id"]?.stringValue == event.providerMessageID)
            #expect(row["event_id"]?.stringValue == "")
            #expect(row["bounce_class"]?.stringValue == "")
            #expect(row["recipients"] == .number(Double(event.count)))
            if case .object(let members) = row { #expect(Set(members.keys).isSuperset(of: Set(AnalyticsSchema.columns))) }
        }
    }
}
