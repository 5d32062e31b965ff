import Domain
import ProviderModel

// How an analytics event is a row of the ClickHouse table (AnalyticsSchema): the store's format, kept beside it.
extension AnalyticsEvent {
    /// The events as JSONEachRow lines, each tagged with the block it is written in. What a run of events has in
    /// common (time, user, batch, send-config, provider: a chunk's outcomes, a page's queued recipients) is
    /// written once per run and copied into each line; escaping those members for every event was most of the
    /// writer's cost.
    public static func encode(_ events: some Sequence<AnalyticsEvent>, block: String, into bytes: inout [UInt8]) {
        var shared: AnalyticsEvent?
        var prefix: [UInt8] = []
        var own = JSONWriter(capacity: 256)
        for event in events {
            if shared.map({ !event.shares(with: $0) }) ?? true {
                var writer = JSONWriter(capacity: 256)
                writer.beginObject()
                let seconds = min(max(0, event.timeMs / 1_000), Int64(UInt32.max))
                writer.member("event_time", number: seconds)
                // Written, not left to the column's default, which ClickHouse 18.16 does not apply to an omitted field: the
                // table's partition and the counting views' months are this date's.
                writer.member("event_date", String(ISO8601.extendedUTC(milliseconds: seconds * 1_000).prefix(10)))
                writer.member("user_id", event.userID)
                writer.member("batch_id", event.batchID)
                writer.member("send_config_id", event.sendConfigID)
                writer.member("provider", event.provider)
                writer.member("block_id", block)
                prefix = writer.bytes
                shared = event
            }
            own.clear()
            own.beginObject()
            own.member("recipient", number: Int64(max(0, event.recipient)))
            own.member("event_type", event.type.rawValue)
            own.member("bounce_class", event.bounceClass)
            own.member("reason", String(event.reason.prefix(500)))
            own.member("provider_message_id", event.providerMessageID)
            own.member("event_id", event.eventID)
            // Always written: ClickHouse 18.16 reads an omitted field as 0, not as the column's default.
            own.member("recipients", number: Int64(max(1, event.count)))
            own.endObject()
            bytes += prefix
            bytes.append(UInt8(ascii: ","))
            bytes += own.bytes.dropFirst()
            bytes.append(UInt8(ascii: "\n"))
        }
    }

    /// Whether the members written once per run are the same for both.
    func shares(with other: AnalyticsEvent) -> Bool {
        timeMs / 1_000 == other.timeMs / 1_000 && batchID == other.batchID && userID == other.userID
            && sendConfigID == other.sendConfigID && provider == other.provider
    }
}
